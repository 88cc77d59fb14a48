/* cgroup_bpf.c — cgroup v2 has no devices.allow/deny files: the kernel asks a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the group instead.  We assemble one from the
 * OCI rules (a handful of compares per rule, no maps, no helpers), load it with bpf(2), attach
 * it, and detach whatever device programs were there before. */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_bpf (int cmd, union bpf_attr *attr)
{
  return (int)syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

static struct bpf_insn insn (uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  struct bpf_insn i;
  memset (&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

/* Register use: r1 ctx; r2 device type; r3 requested access; r4 major; r5 minor; r6 scratch. */
#define LDX_W(dst, off) insn (BPF_LDX | BPF_W | BPF_MEM, dst, 1, off, 0)
#define ALU32_K(op, dst, imm) insn (BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_X(dst, src) insn (BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, imm) insn (BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
/* 32-bit compares, so majors and minors above 2^31 are not sign-extended. */
#define JNE32_K(dst, imm) insn (BPF_JMP32 | BPF_JNE | BPF_K, dst, 0, 0, imm)
#define EXIT() insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

struct prog
{
  struct bpf_insn *v;
  size_t n, cap;
};

static void emit (struct prog *p, struct bpf_insn i)
{
  if (p->n == p->cap)
    {
      p->cap = p->cap ? p->cap * 2 : 64;
      p->v = xrealloc (p->v, p->cap * sizeof *p->v);
    }
  p->v[p->n++] = i;
}

/* One rule: a run of "if this does not match, skip to the next rule" jumps, then the verdict.
 * Returns false when the rule matches everything (later-emitted rules would be unreachable,
 * which the verifier refuses). */
static bool emit_rule (struct prog *p, const struct cg_dev_rule *r)
{
  size_t start = p->n;
  if (r->type != 'a')
    emit (p, JNE32_K (2, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  if ((r->access & CG_ACC_ALL) != CG_ACC_ALL)
    {
      /* The rule covers the request when the request asks for nothing outside it. */
      emit (p, MOV64_X (6, 3));
      emit (p, ALU32_K (BPF_AND, 6, (int32_t)(~r->access & CG_ACC_ALL)));
      emit (p, JNE32_K (6, 0));
    }
  if (r->type != 'a' && r->major >= 0)
    emit (p, JNE32_K (4, (int32_t)(uint32_t)r->major));
  if (r->type != 'a' && r->minor >= 0)
    emit (p, JNE32_K (5, (int32_t)(uint32_t)r->minor));
  bool conditional = p->n > start;
  emit (p, MOV64_K (0, r->allow ? 1 : 0));
  emit (p, EXIT ());
  for (size_t i = start; i < p->n; i++)
    if (BPF_CLASS (p->v[i].code) == BPF_JMP32)
      p->v[i].off = (int16_t)(p->n - (i + 1));
  return conditional;
}

/* Last matching rule wins (the order the OCI list and v1's allow/deny writes have), so emit them
 * in reverse and return at the first match; with no match, deny, as v1 does after "a" is
 * written to devices.deny. */
static void assemble (struct prog *p, const struct cg_dev_rule *rules, size_t n)
{
  emit (p, LDX_W (2, 0));
  emit (p, ALU32_K (BPF_AND, 2, 0xffff));
  emit (p, LDX_W (3, 0));
  emit (p, ALU32_K (BPF_RSH, 3, 16));
  emit (p, LDX_W (4, 4));
  emit (p, LDX_W (5, 8));
  for (size_t i = n; i > 0; i--)
    if (!emit_rule (p, &rules[i - 1]))
      return;
  emit (p, MOV64_K (0, 0));
  emit (p, EXIT ());
}

static int prog_load (const struct prog *p, berr_t *err)
{
  union bpf_attr a;
  memset (&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t)(uintptr_t)p->v;
  a.insn_cnt = (uint32_t)p->n;
  a.license = (uint64_t)(uintptr_t) "GPL";
  int fd = sys_bpf (BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  int e = errno;
  if (e != EINVAL && e != EACCES)
    return berr_set (err, e, "load the device eBPF program");
  /* Ask the verifier why, for the error message. */
  static char log[4096];
  log[0] = '\0';
  a.log_buf = (uint64_t)(uintptr_t)log;
  a.log_size = sizeof log;
  a.log_level = 1;
  fd = sys_bpf (BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  log[sizeof log - 1] = '\0';
  return berr_set (err, e, "load the device eBPF program (verifier: %.300s)", log);
}

/* Programs attached to the group itself (not inherited) as BPF_CGROUP_DEVICE. */
static int query (int cgfd, uint32_t *ids, uint32_t *cnt, berr_t *err)
{
  union bpf_attr a;
  memset (&a, 0, sizeof a);
  a.query.target_fd = (uint32_t)cgfd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uint64_t)(uintptr_t)ids;
  a.query.prog_cnt = *cnt;
  if (sys_bpf (BPF_PROG_QUERY, &a) < 0)
    return berr_set (err, errno, "query device eBPF programs");
  *cnt = a.query.prog_cnt;
  return 0;
}

int cg_bpf_set_devices (const char *path, const struct cg_dev_rule *rules, size_t n, berr_t *err)
{
  /* bpf(2) takes a real open directory, not the O_PATH one kept for clone3. */
  cleanup_close int cgfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return berr_set (err, errno, "open %s", path);
  uint32_t old[64];
  uint32_t nold = ARRAY_SIZE (old);
  if (query (cgfd, old, &nold, err) < 0)
    return berr_wrap (err, "%s", path);
  if (nold > ARRAY_SIZE (old))
    nold = ARRAY_SIZE (old);

  struct prog p = { 0 };
  assemble (&p, rules, n);
  cleanup_close int pfd = prog_load (&p, err);
  free (p.v);
  if (pfd < 0)
    return berr_wrap (err, "%s", path);

  union bpf_attr a;
  memset (&a, 0, sizeof a);
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)pfd;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf (BPF_PROG_ATTACH, &a) < 0)
    return berr_set (err, errno, "attach the device eBPF program to %s", path);

  /* Only now drop the old programs, so the group is never without rules in between. */
  for (uint32_t i = 0; i < nold; i++)
    {
      memset (&a, 0, sizeof a);
      a.prog_id = old[i];
      cleanup_close int ofd = sys_bpf (BPF_PROG_GET_FD_BY_ID, &a);
      if (ofd < 0)
        {
          if (errno == ENOENT)
            continue;
          return berr_set (err, errno, "open the previous device eBPF program of %s", path);
        }
      memset (&a, 0, sizeof a);
      a.target_fd = (uint32_t)cgfd;
      a.attach_bpf_fd = (uint32_t)ofd;
      a.attach_type = BPF_CGROUP_DEVICE;
      if (sys_bpf (BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
        return berr_set (err, errno, "detach the previous device eBPF program of %s", path);
    }
  return 0;
}
