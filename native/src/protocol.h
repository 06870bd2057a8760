/*
 * The wire format shared with src/sys/protocol.ts (a unit test checks both agree).
 * Every message, on every channel, is a frame: u32 payload length, u16 type, u16 aux (LE),
 * then the payload. The plan is the payload of M_PLAN: u32 magic, u32 step count, then steps,
 * each u16 op, u16 flags, u32 length, payload. Integers are little-endian.
 */
#ifndef CHRUN_PROTOCOL_H
#define CHRUN_PROTOCOL_H

#define PLAN_MAGIC 0x31504843u /* "CHP1" */
#define FRAME_HEADER 8u
#define FRAME_MAX (1u << 20)    /* any message but the plan */
#define PLAN_MAX (16u << 20)    /* the plan */

/* Messages: chrun -> helper */
#define M_PLAN 1
#define M_RESIZE 2 /* u16 rows, u16 cols */
#define M_KILL 3   /* u32 signal */
#define M_SPAWN 4  /* zygote: u8 stdin, stdout, stderr (0 keep, 1 /dev/null), u8 0, then a plan */
/* helper (outer) <-> container init */
#define M_GO 8 /* maps and cgroups are in place */
#define M_PTY 9 /* the pty master, as SCM_RIGHTS */
/* helper -> chrun */
#define M_PID 16     /* i32 host pid of the container process */
#define M_READY 17   /* setup done; waiting on the exec fifo (or about to exec) */
#define M_TIMINGS 18 /* u32 count, then count x (u32 step, u32 microseconds) */
#define M_ERROR 19   /* u32 step, i32 errno, str detail */
#define M_NOTE 20    /* u32 step, str text */
#define M_EXEC 21    /* the container process called execve successfully */
#define M_EXIT 22    /* i32 wait status */
#define M_GONE 23    /* zygote: the host side of the container tagged aux has ended */
#define M_SPAWNED 24 /* zygote: i32 the forked helper's pid, or -errno when it could not fork */

/* Plan steps. P: run by the helper on the host side; C: run by the container process. */
#define OP_FIFO 1          /* P str path: mkfifo + open for reading, kept for OP_FIFO_WAIT */
#define OP_CLONE 2         /* P u64 clone flags, str cgroup v2 dir (or ""), u32 CLONE_F_* */
#define OP_CGROUP_JOIN 3   /* P str cgroup.procs path: write the child's pid */
#define OP_UID_MAP 4       /* P str uid_map text */
#define OP_GID_MAP 5       /* P str gid_map text */
#define OP_SETGROUPS_DENY 6 /* P */
#define OP_ORPHAN_UNLINK 7 /* P str path: removed when chrun dies before the container */
#define OP_ORPHAN_RMDIR 8  /* P str path: idem, a directory */
#define OP_CONSOLE_SOCKET 9 /* P str path: send the pty master there instead of relaying */
#define OP_ORPHAN_UMOUNT 10 /* P str path: detached (MNT_DETACH) if chrun dies first */
#define OP_ORPHAN_RMTREE 11 /* P str path: a tree removed (not crossing mounts) if chrun dies first */

#define OP_SETNS 20        /* C str path, u32 nstype */
#define OP_FORK 21         /* C fork (CLONE_PARENT) to enter a joined pid namespace */
#define OP_MOUNT 22        /* C str src, str target, str fstype, u64 flags, str data, u32 MNT_F_* */
#define OP_ROOTFS 23       /* C str path: the root; later targets with MNT_F_IN_ROOT resolve in it */
#define OP_PIVOT_ROOT 24   /* C pivot_root into the root and detach the old one */
#define OP_MOVE_ROOT 25    /* C MS_MOVE the root onto / and chroot (where pivot_root cannot work) */
#define OP_CHROOT 26       /* C str path */
#define OP_MKNOD 27        /* C str path (in root), u32 mode, u64 dev, u32 uid, u32 gid */
#define OP_SYMLINK 28      /* C str target, str path (in root) */
#define OP_MKDIR 29        /* C str path, u32 mode (mkdir -p) */
#define OP_MASK 30         /* C str path: /dev/null over a file, read-only tmpfs over a dir */
#define OP_READONLY 31     /* C str path: bind onto itself, remount read-only */
#define OP_WRITE_FILE 32   /* C str path, str data */
#define OP_HOSTNAME 33     /* C str */
#define OP_DOMAINNAME 34   /* C str */
#define OP_RLIMIT 35       /* C u32 resource, u64 soft, u64 hard */
#define OP_CHDIR 36        /* C str */
#define OP_UMASK 37        /* C u32 */
#define OP_SETSID 38       /* C */
#define OP_PTY 39          /* C u32 rows, u32 cols, str console: new pty, slave on 0-2 as ctty */
#define OP_CAPS_BOUNDING 40 /* C u64 caps to keep */
#define OP_KEEPCAPS 41     /* C u32 on */
#define OP_SETGROUPS 42    /* C u32 count, u32 gids[] */
#define OP_SETGID 43       /* C u32 */
#define OP_SETUID 44       /* C u32 */
#define OP_CAPS 45         /* C u64 effective, u64 permitted, u64 inheritable */
#define OP_AMBIENT 46      /* C u64 */
#define OP_NO_NEW_PRIVS 47 /* C */
#define OP_SECCOMP_BPF 48  /* C u32 filter flags, bytes (struct sock_filter[]) */
#define OP_SECCOMP_RULES 49 /* C see seccomp.c */
#define OP_READY 50        /* C tell chrun the container is created */
#define OP_FIFO_WAIT 51    /* C block until `start` writes to the exec fifo */
#define OP_REAPER 52       /* C fork; the parent stays as a reaper forwarding signals */
#define OP_EXEC 53         /* C str file, strv argv, strv envp, str PATH (search when no '/') */
#define OP_CLOSE_FDS 54    /* C u32 first fd to close (keeps 0..n-1 and the sync socket) */
#define OP_PDEATHSIG 55    /* C u32 signal */
#define OP_LOOPBACK_UP 56  /* C bring up lo in the container's network namespace */
#define OP_UNSHARE 57      /* C u32 CLONE_NEW* flags: namespaces made after the cgroups are joined */
#define OP_MAX 58

/* OP_CLONE flags */
#define CLONE_F_ATTACHED 1u /* chrun holds the container: its death kills it and cleans up */
#define CLONE_F_DETACH 2u   /* exit once the container is ready; the caller's subreaper reaps */
#define CLONE_F_RAW_TTY 4u  /* relaying a pty: our stdin terminal is raw until the container ends */

/* OP_MOUNT flags */
#define MNT_F_IN_ROOT 1u  /* target is a container path, resolved inside the root */
#define MNT_F_MKDIR 2u    /* create the target directory (and parents) */
#define MNT_F_MKFILE 4u   /* create the target as an empty file (and parent directories) */
#define MNT_F_OPTIONAL 8u /* skip when the target does not exist */

#endif
