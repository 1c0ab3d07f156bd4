"""Trusted start-up of every sandbox child: a script, run as
``python -I -S -B runner.py CONFIG_JSON`` by :mod:`engine.sandbox.process` (stdlib only,
never imported by the app; nothing of the app is importable from here).

It runs as the app's user (root on CI and build machines) and, in order:

1. isolates: a new network namespace (no interfaces but a downed loopback) unless the
   network is allowed, and a new mount namespace with a root of its own
   (``_setup_root``): read-only binds of the system libraries, the Python installation
   (and the site-packages a verifier needs), a few /etc files and devices, its own
   /proc, and one size-limited tmpfs of which only the work directory (the app's files
   copied in) and /dev/shm are writable. Where ``pivot_root`` is refused, the older
   view (``_setup_mounts``): /tmp, /var/tmp, /dev/shm, /run, the app's home and every
   directory that hides the Python installation from the sandbox user covered by empty
   tmpfs, the needed paths bound back read-only, the work directory read-write, and
   everything else read-only.
   As root this is a plain ``unshare``; as another user it is done inside a new user
   namespace (unprivileged user namespaces), and capabilities are dropped after it.
   Where a step is refused by the platform it falls back (sockets refused inside
   Python; no file-system view change) and reports what it got in the status record.
2. becomes a *supervisor*: a child subreaper that forks the sandboxed process and
   stays outside it, as root where the app is root, so the sandboxed code cannot
   signal it. When the sandboxed process ends, or the app sends SIGTERM (timeout,
   output flood), the supervisor SIGKILLs every descendant (a fork bomb's orphans
   are re-parented to it, so none escapes, even with setsid), reaps them all (no
   zombies are left to an init that does not reap), and writes one JSON status
   record (exit status, CPU time, peak memory, isolation obtained) to a pipe only it
   holds.
3. in the forked child: applies the resource limits (CPU, address space, file size,
   open files, processes, no core files), sets no_new_privs, drops to the sandbox uid
   and gid with no supplementary groups (as root) or drops all capabilities (user
   namespace), then runs the target: the untrusted script as ``__main__``, or a
   trusted entry script's ``main(args)`` (the unit-test harness, the math and
   reward-function loops).
"""

import builtins
import ctypes
import json
import os
import resource
import select
import signal
import stat
import sys
import time
import traceback

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38
SYS_MOUNT_SETATTR = 442  # same number on x86_64 and the generic table (arm64)
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY = 0x1
MASKED_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run")
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)
# What a fresh root gets besides the Python installation: read-only binds of the system
# libraries (extension modules load libssl, libffi...), a few /etc files and devices.
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/hosts")
DEV_FILES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
# Imported before dropping privileges when the sandbox user cannot read the standard
# library and no mount namespace could make it readable (weaker fallback).
PREIMPORT = (
    "abc array ast base64 bisect calendar cmath collections collections.abc copy "
    "dataclasses datetime decimal enum fractions functools hashlib heapq itertools json "
    "math numbers operator random re statistics string textwrap traceback types typing "
    "unicodedata"
).split()

_libc = ctypes.CDLL(None, use_errno=True)


class _Unchanged(OSError):
    """A namespace step failed before anything was changed."""


class _Stop(Exception):
    """Raised in the supervisor by SIGTERM from the app."""


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags):
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def _mount(source, target, fstype, flags, data=None):
    def enc(s):
        return None if s is None else os.fsencode(s)

    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _mount_setattr(path, recursive, set_flags, clear_flags):
    attr = _MountAttr(set_flags, clear_flags, 0, 0)
    ret = _libc.syscall(
        ctypes.c_long(SYS_MOUNT_SETATTR),
        ctypes.c_int(AT_FDCWD),
        os.fsencode(path),
        ctypes.c_uint(AT_RECURSIVE if recursive else 0),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    _check(ret, f"mount_setattr {path}")


def _world_reachable(path):
    """True when a user with no relation to the owners can open ``path``."""
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i]) or "/"
        try:
            mode = os.stat(sub).st_mode
        except OSError:
            return False
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return False
    return bool(os.stat(path).st_mode & stat.S_IROTH)


def _blocker(path):
    """The shallowest directory on ``path`` that others cannot traverse."""
    parts = path.split("/")
    for i in range(2, len(parts) + 1):
        sub = "/".join(parts[:i])
        if not os.stat(sub).st_mode & stat.S_IXOTH:
            return sub
    return None


def _under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def _needed_paths(cfg):
    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(p for p in sys.path if p)
    paths.update(cfg.get("sys_path", []))
    found = sorted({os.path.realpath(p) for p in paths if os.path.isdir(p)}, key=len)
    kept: list[str] = []
    for p in found:  # drop paths inside one already kept
        if not any(_under(p, k) for k in kept):
            kept.append(p)
    return kept


def _snapshot(workdir):
    """The work directory's files (small: what the app wrote for this check)."""
    found: list[tuple[str, bytes | None]] = []
    for dirpath, dirnames, filenames in os.walk(workdir):
        rel = os.path.relpath(dirpath, workdir)
        found.extend((os.path.normpath(os.path.join(rel, d)), None) for d in dirnames)
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as f:
                found.append((os.path.normpath(os.path.join(rel, name)), f.read()))
    return found


def _restore(files, target, cfg):
    uid, gid = cfg.get("uid"), cfg.get("gid")
    os.makedirs(target, mode=0o700, exist_ok=True)
    paths = [target]
    for rel, data in files:
        path = os.path.join(target, rel)
        if data is None:
            os.makedirs(path, mode=0o700, exist_ok=True)
        else:
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                f.write(data)
        paths.append(path)
    if uid is not None:
        for path in paths:
            os.chown(path, uid, gid, follow_symlinks=False)


def _bind(src, dst, directory):
    if directory:
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.close(os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644))
    _mount(src, dst, None, MS_BIND | MS_REC)


def _setup_root(cfg, dropping_uid):
    """A fresh, empty root: read-only binds of the Python installation, the system
    libraries, a few /etc files and devices, /proc; one size-limited tmpfs on /tmp whose
    only writable parts are the work directory and /dev/shm; /run and /var/tmp empty.
    Nothing else of the host (no Unix socket, no other file) exists in it."""
    if SYS_PIVOT_ROOT is None:
        raise _Unchanged(0, f"pivot_root: unknown machine {os.uname().machine}")
    workdir = cfg["workdir"]
    files = _snapshot(workdir)
    needed = _needed_paths(cfg)
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError as exc:
        raise _Unchanged(*exc.args) from None
    root = workdir  # the new root is mounted over the (hidden) host work directory

    def at(path):
        return root + path

    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    try:
        bound = []
        for d in SYSTEM_DIRS:
            if os.path.islink(d):
                os.symlink(os.readlink(d), at(d))
            elif os.path.isdir(d):
                _bind(d, at(d), True)
                bound.append(d)
        for p in needed:
            if not any(_under(p, b) for b in bound):
                _bind(p, at(p), True)
                bound.append(p)
        for f in ETC_FILES + DEV_FILES:
            if os.path.exists(f):
                _bind(f, at(f), False)
        os.makedirs(at("/proc"))
        try:  # a proc of its own that shows the sandbox user only its own processes
            _mount("proc", at("/proc"), "proc", MS_NOSUID | MS_NODEV, "hidepid=invisible")
        except OSError:
            _mount("/proc", at("/proc"), None, MS_BIND | MS_REC)
        os.makedirs(at("/tmp"))
        size = int(cfg["limits"]["writable"])
        _mount("tmpfs", at("/tmp"), "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size}")
        # /tmp itself stays read-only; the work directory and /dev/shm are writable
        # binds of parts of the same tmpfs, so their total is bounded by its size.
        writable = [workdir, "/dev/shm"]
        staged = at(workdir) if _under(workdir, "/tmp") else at("/tmp/.work")
        _restore(files, staged, cfg)
        _bind(staged, at(workdir), True)
        os.makedirs(at("/tmp/.shm"))
        os.chmod(at("/tmp/.shm"), 0o1777)
        _bind(at("/tmp/.shm"), at("/dev/shm"), True)
        for d in ("/run", "/var/tmp"):
            os.makedirs(at(d), exist_ok=True)
        os.symlink("/run", at("/var/run"))
        os.chdir(root)
        _check(_libc.syscall(ctypes.c_long(SYS_PIVOT_ROOT), b".", b"."), "pivot_root")
    except BaseException:
        os.chdir("/")
        _libc.umount2(os.fsencode(root), MNT_DETACH)  # undo everything: the host's view again
        raise
    _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")
    try:
        _mount_setattr("/", True, MOUNT_ATTR_RDONLY, 0)
        for p in writable:
            _mount_setattr(p, False, 0, MOUNT_ATTR_RDONLY)
        read_only = "all"
    except (OSError, AttributeError):
        read_only = "binds"
        for p in bound:
            try:
                _mount(None, p, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            except OSError:
                read_only = "none"
    return {"root": "private", "bound": bound, "writable_bytes": size, "read_only": read_only}


def _setup_mounts(cfg, dropping_uid):
    """Give the sandbox its own view of the file system (see the module docstring)."""
    workdir = cfg["workdir"]
    needed = _needed_paths(cfg)
    wanted = {d for d in MASKED_DIRS if os.path.isdir(d) and not os.path.islink(d)}
    wanted.update(d for d in cfg.get("hide_dirs", []) if os.path.isdir(d) and d != "/")
    if dropping_uid:
        wanted.update(b for b in (_blocker(p) for p in needed if not _world_reachable(p)) if b)
    by_depth = sorted({os.path.realpath(h) for h in wanted}, key=len)
    hide = [h for i, h in enumerate(by_depth) if not any(_under(h, k) for k in by_depth[:i])]
    rebind = [(p, False) for p in needed if any(_under(p, h) for h in hide)]
    rebind.append((workdir, True))
    # O_PATH handles on what is re-bound, opened while it is still visible (and always
    # closed before the sandboxed code runs: such a handle would bypass a 0700 parent).
    fds = []
    try:
        for p, rw in rebind:
            fds.append((p, rw, os.open(p, os.O_PATH | os.O_DIRECTORY)))
        try:
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
        except OSError as exc:
            raise _Unchanged(*exc.args) from None
        for h in hide:
            if h == "/dev/shm":  # a private, small, writable one (multiprocessing needs it)
                opts = f"mode=1777,size={max(cfg['limits']['fsize'], 1 << 16)}"
            else:
                opts = "mode=0755,size=64k"
            _mount("tmpfs", h, "tmpfs", MS_NOSUID | MS_NODEV, opts)
        for p, _rw, fd in fds:
            os.makedirs(p, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
    finally:
        for _p, _rw, fd in fds:
            os.close(fd)
    try:  # everything read-only but the work directory (and the private /dev/shm)
        _mount_setattr("/", True, MOUNT_ATTR_RDONLY, 0)
        read_only = "all"
        for p in [workdir] + [h for h in hide if h == "/dev/shm"]:
            _mount_setattr(p, False, 0, MOUNT_ATTR_RDONLY)
    except (OSError, AttributeError):
        read_only = "python"
        for p, rw in rebind:
            if not rw:
                try:
                    _mount(None, p, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
                except OSError:
                    read_only = "none"
    return {"hidden": hide, "rebound": [p for p, _ in rebind], "read_only": read_only}


def _isolate(cfg, dropping_uid):
    """Namespaces, as far as the platform allows. Returns what was obtained."""
    want_net = not cfg["network"]
    notes: dict[str, object] = {
        "net": "open" if not want_net else "none",
        "fs": "none",
        "userns": False,
    }
    errors: list[str] = []  # under notes["errors"] once there is one
    net = CLONE_NEWNET if want_net else 0
    if os.geteuid() == 0:
        attempts = [(net | CLONE_NEWNS, False), (net, False)] if net else [(CLONE_NEWNS, False)]
    else:
        attempts = [(CLONE_NEWUSER | CLONE_NEWNS | net, True)]
        if net:
            attempts.append((CLONE_NEWUSER | net, True))
    try:  # as root, a failed file-system setup can go back to the host's view
        original_ns = os.open("/proc/self/ns/mnt", os.O_RDONLY) if os.geteuid() == 0 else None
    except OSError:
        original_ns = None
    for flags, userns in attempts:
        try:
            _unshare(flags)
        except OSError as exc:
            errors.append(str(exc))
            notes["errors"] = errors
            continue
        if userns:
            uid, gid = os.getuid(), os.getgid()
            for name, text in (
                ("setgroups", "deny"),
                ("uid_map", f"{uid} {uid} 1"),
                ("gid_map", f"{gid} {gid} 1"),
            ):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
            notes["userns"] = True
        if flags & CLONE_NEWNET:
            notes["net"] = "netns"
        if flags & CLONE_NEWNS:
            try:
                notes["fs"] = _setup_root(cfg, dropping_uid)
            except OSError as exc:  # the same namespace, unchanged: the older masking view
                errors.append(f"private root refused: {exc}")
                notes["errors"] = errors
            try:
                if notes["fs"] == "none":
                    notes["fs"] = _setup_mounts(cfg, dropping_uid)
            except OSError as exc:
                if original_ns is None and not isinstance(exc, _Unchanged):
                    raise  # a half-built view that cannot be undone: refuse to run
                if original_ns is not None:  # back to the host's view
                    _check(_libc.setns(original_ns, CLONE_NEWNS), "setns")
                errors.append(str(exc))
                notes["errors"] = errors
        break
    if original_ns is not None:
        os.close(original_ns)
    return notes


def _block_sockets():
    """Weak fallback when no network namespace could be had: make the socket modules
    unimportable. Code that re-imports the C module by hand gets around it."""
    for name in ("socket", "_socket", "ssl", "_ssl"):
        sys.modules.pop(name, None)
        # None is the documented "import blocked" entry, which typeshed does not model.
        sys.modules[name] = None  # type: ignore[assignment]


def _drop_capabilities():
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    _check(_libc.capset(ctypes.byref(Header(0x20080522, 0)), ctypes.byref((Data * 2)())), "capset")


def _apply_limits(lim):
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu"], lim["cpu"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (lim["memory"], lim["memory"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim["fsize"], lim["fsize"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim["nofile"], lim["nofile"]))
    resource.setrlimit(resource.RLIMIT_NPROC, (lim["nproc"], lim["nproc"]))


def _become_sandbox_user(uid, gid):
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)  # as root: real, effective and saved ids; all capabilities are lost
    if os.getuid() != uid or os.geteuid() != uid or os.getegid() != gid:
        raise OSError("could not drop privileges")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise OSError("privileges could be regained")


def _child(cfg, source, notes):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.close(cfg["status_fd"])
    uid = cfg.get("uid")
    if not cfg["network"] and notes["net"] != "netns":
        _block_sockets()
    if (
        uid is not None
        and notes["fs"] == "none"
        and not _world_reachable(os.path.realpath(os.path.dirname(os.__file__)))
    ):
        for name in PREIMPORT:
            try:
                __import__(name)
            except ImportError:
                pass
    _apply_limits(cfg["limits"])
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if uid is not None:
        _become_sandbox_user(uid, cfg["gid"])
    elif notes["userns"]:
        _drop_capabilities()
    os.chdir(cfg["workdir"])
    os.umask(0o077)
    sys.path[:0] = [cfg["workdir"]]
    sys.path.extend(cfg.get("sys_path", []))
    target = cfg["target"]
    if cfg["mode"] == "script":
        sys.argv = [target]
        namespace = {"__name__": "__main__", "__file__": target, "__builtins__": __builtins__}
        try:
            exec(compile(source, target, "exec"), namespace)
        except SystemExit:
            raise
        except BaseException as exc:  # a traceback without the runner's own frames
            tb = exc.__traceback__
            traceback.print_exception(type(exc), exc, tb.tb_next if tb is not None else None)
            raise SystemExit(1) from None
    else:
        code = compile(source, target, "exec")
        # A private copy of the built-ins: later patches of the builtins module by
        # untrusted code do not reach the trusted script's own look-ups.
        namespace = {
            "__name__": "__sandbox__",
            "__file__": target,
            "__builtins__": dict(builtins.__dict__),
        }
        exec(code, namespace)
        namespace["main"](cfg["args"])


def _descendants(root):
    """Living descendants of ``root`` (from /proc)."""
    children: dict[int, list[tuple[int, bytes]]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append((int(name), fields[0]))
    found, todo = [], [root]
    while todo:
        for pid, state in children.get(todo.pop(), ()):
            if state not in (b"Z", b"X"):
                found.append(pid)
            todo.append(pid)
    return found


def _kill_descendants():
    for pid in _descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kill_and_reap_all(budget_s=10.0):
    """SIGKILL every descendant and reap them all (we are their subreaper)."""
    end = time.monotonic() + budget_s
    while time.monotonic() < end:
        _kill_descendants()
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return True
            if pid == 0:
                break
        select.select([], [], [], 0.002)
    return False


_state = {"waiting": False, "stop": False}


def _stop(signum, frame):
    _state["stop"] = True
    if _state["waiting"]:
        raise _Stop()


def _supervise(cfg, child, notes):
    for fd in cfg.get("child_fds", []):
        os.close(fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    status = {"stopped": False, "isolation": notes, "child": child}
    wstatus = usage = None
    killed = False
    while True:
        if _state["stop"] and not killed:
            status["stopped"] = killed = True
            _kill_descendants()  # the child is among them; wait4 then returns at once
        try:
            _state["waiting"] = True
            if _state["stop"] and not killed:
                raise _Stop()
            _, wstatus, usage = os.wait4(child, 0)
            break
        except _Stop:
            continue
        except ChildProcessError:
            break
        finally:
            _state["waiting"] = False
    status["reaped_all"] = _kill_and_reap_all()
    if wstatus is not None and usage is not None:  # wait4 returns both or raises
        status.update(
            wait_status=wstatus,
            utime=usage.ru_utime,
            stime=usage.ru_stime,
            maxrss_kb=usage.ru_maxrss,
        )
    os.write(cfg["status_fd"], json.dumps(status).encode() + b"\n")
    os._exit(0)


def main():
    cfg = json.loads(sys.argv[1])
    status_fd = cfg["status_fd"]
    try:
        with open(cfg["target"], encoding="utf-8") as f:  # before /tmp and home are hidden
            source = f.read()
        notes = _isolate(cfg, cfg.get("uid") is not None)
        _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "subreaper")
        signal.signal(signal.SIGTERM, _stop)
        pid = os.fork()
    except BaseException as exc:
        os.write(status_fd, json.dumps({"error": f"sandbox setup failed: {exc}"}).encode() + b"\n")
        os._exit(70)
    if pid == 0:
        _child(cfg, source, notes)
    else:
        _supervise(cfg, pid, notes)


if __name__ == "__main__":
    main()
