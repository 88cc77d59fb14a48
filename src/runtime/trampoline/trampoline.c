/* trampoline.c — the only program a container process execs on its way to the payload
 * (CVE-2019-5736, see src/runtime/payload.c).  Built static, without libc, into a few hundred
 * bytes that berth embeds and runs from a sealed memfd.
 *
 *   argv[0]  the fd of the sync socket (decimal)
 *   argv[1]  the payload's path
 *   argv[2…] the payload's argv
 *
 * It marks the socket close-on-exec and execs the payload; if that fails, it writes the errno
 * to the socket as an RT_SYNC_EXEC_ERRNO message and exits 127 (not found) or 126.  Started any
 * other way (a "#!/proc/self/exe" script re-executing it) it says so and exits 127. */
#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>

#include "../rt_sync.h"

#define F_SETFD 2
#define FD_CLOEXEC 1
#define ENOENT 2

#if defined(__x86_64__)
static long sys3 (long n, long a, long b, long c)
{
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call tramp_main\n"
        "  hlt\n");
#elif defined(__aarch64__)
static long sys3 (long n, long a, long b, long c)
{
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x0, sp\n"
        "  bl tramp_main\n"
        "  brk #0\n");
#else
#error "trampoline: add the syscall glue for this architecture"
#endif

static void __attribute__ ((noreturn)) die (int status)
{
  for (;;)
    sys3 (__NR_exit_group, status, 0, 0);
}

static void say (const char *s)
{
  size_t n = 0;
  while (s[n])
    n++;
  sys3 (__NR_write, 2, (long)s, (long)n);
}

void __attribute__ ((noreturn, used)) tramp_main (long *sp);
void tramp_main (long *sp)
{
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  long fd = 0;
  const char *p = argc >= 3 ? argv[0] : "";
  if (*p == '\0')
    fd = -1;
  for (; *p && fd >= 0; p++)
    fd = (*p >= '0' && *p <= '9' && fd < 100000) ? fd * 10 + (*p - '0') : -1;
  if (fd < 3)
    {
      say ("berth-trampoline: this program only runs a container's process for berth\n");
      die (127);
    }
  sys3 (__NR_fcntl, fd, F_SETFD, FD_CLOEXEC);
  long r = sys3 (__NR_execve, (long)argv[1], (long)(argv + 2), (long)envp);
  struct rt_sync_msg m;
  m.type = RT_SYNC_EXEC_ERRNO;
  m.errnum = (int32_t)-r;
  m.kind = 0;
  m.value = 0;
  sys3 (__NR_write, fd, (long)&m, sizeof m);
  die (-r == ENOENT ? 127 : 126);
}
