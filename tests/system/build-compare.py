#!/usr/bin/env python3
"""build-compare.py: normalise what two engines built, so that 425-build-interop.bats can diff
berth's image against Docker's.

  build-compare.py tree DUMP      DUMP: the output of TREE_DUMP (425-build-interop.bats) run in a
                                  container: `stat` lines, a "===" line, `md5sum` lines.
  build-compare.py image ARCHIVE  ARCHIVE: a docker-archive (save -o) holding one image.

Both print sorted, engine-neutral lines. What legitimately differs between engines is dropped:
the files a runtime bind-mounts or adds (/etc/hostname, /etc/hosts, /etc/resolv.conf,
/.dockerenv), inode and device numbers (hard links become "the group's first path"), directory
sizes and link counts (filesystem-dependent), mtimes (never dumped), and in the history the
content hashes Docker's legacy builder writes into "COPY file:<sha256> in /dst".
"""
import json
import re
import sys
import tarfile

# /etc/mtab: the link to /proc/mounts that dockerd adds to every container (its init layer).
DROP = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/.dockerenv", "/etc/mtab"}


def tree(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    stats, _, sums = text.partition("\n===\n")
    md5 = {}
    for line in sums.splitlines():
        if line.strip():
            digest, name = line.split("  ", 1)
            md5[name] = digest
    rows = []
    inodes = {}
    for line in stats.splitlines():
        if not line.strip():
            continue
        name, mode, uid, gid, size, nlink, ino, shown = line.split("|", 7)
        if name in DROP:
            continue
        rows.append((name, int(mode, 16), uid, gid, size, int(nlink), ino, shown))
        inodes.setdefault(ino, []).append(name)
    out = []
    for name, mode, uid, gid, size, nlink, ino, shown in rows:
        kind = mode & 0o170000
        perm = "%o" % (mode & 0o7777)
        extra = ""
        if kind == 0o040000:
            size = "-"
            t = "d"
        elif kind == 0o120000:
            t = "l"
            extra = shown  # "name -> target"
        elif kind == 0o100000:
            t = "f"
            extra = md5.get(name, "?")
            if nlink > 1:
                extra += " hardlink-group=" + min(inodes[ino])
        else:
            t = "o%o" % kind
        out.append(" ".join([name, t, perm, uid, gid, size, extra]).rstrip())
    for line in sorted(out):
        print(line)


# no \b: Docker glues a --chown flag to the kind ("COPY --chown=1:2file:<sha256> in /x")
HASH = re.compile(r"(file|dir|multi):[0-9a-f]{64}\b")

FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes",
          "Labels", "OnBuild", "Shell", "StopSignal", "Healthcheck"]


def image(path):
    with tarfile.open(path) as t:
        manifest = json.load(t.extractfile("manifest.json"))
        if len(manifest) != 1:
            sys.exit("expected one image in %s" % path)
        config = json.load(t.extractfile(manifest[0]["Config"]))
    cfg = config.get("config") or {}
    for k in FIELDS:
        v = cfg.get(k)
        if v in ({}, [], ""):
            v = None
        print("%s=%s" % (k, json.dumps(v, sort_keys=True)))
    layers = config.get("rootfs", {}).get("diff_ids", [])
    hist = config.get("history", [])
    print("layers=%d" % len(layers))
    print("history=%d non-empty=%d" % (len(hist), sum(1 for h in hist if not h.get("empty_layer"))))
    for h in hist:
        print("history: %s%s" % (HASH.sub(r"\1:<hash>", h.get("created_by", "")),
                                 " (empty)" if h.get("empty_layer") else ""))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("tree", "image"):
        sys.exit(__doc__)
    {"tree": tree, "image": image}[sys.argv[1]](sys.argv[2])
