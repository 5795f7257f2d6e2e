"""Where the station data folder physically lives: a local disk, a network share or a removable drive.

SQLite's locking and its durability promises do not hold on network file systems (NFS, SMB/CIFS, sshfs…),
and a USB stick pulled out mid-write takes the database with it, so the live database may only live on a
fixed local disk. Linux reads /proc/self/mountinfo and /sys/dev/block; Windows asks GetDriveTypeW. Both
inputs can be handed in, so the parsing is tested with sample texts.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath

LOCAL = "local"
NETWORK = "network"
REMOVABLE = "removable"
UNKNOWN = "unknown"

# File system types that are a network share (or a host folder passed into a VM/WSL over 9p).
NETWORK_FSTYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "coda",
        "9p",
        "sshfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.gcsfuse",
        "fuse.davfs2",
        "davfs",
        "davfs2",
        "glusterfs",
        "fuse.glusterfs",
        "ceph",
        "fuse.ceph",
        "lustre",
        "gfs2",
        "ocfs2",
        "fuse.smbnetfs",
        "fuse.curlftpfs",
    }
)

# GetDriveTypeW results.
DRIVE_REMOVABLE = 2
DRIVE_REMOTE = 4


@dataclass(frozen=True)
class Mount:
    mount_point: str
    fstype: str
    source: str
    device: str  # "major:minor"


@dataclass(frozen=True)
class DataLocation:
    kind: str  # LOCAL, NETWORK, REMOVABLE or UNKNOWN
    detail: str  # what was found: the file system type and source, or the drive type

    @property
    def refused(self) -> bool:
        return self.kind in (NETWORK, REMOVABLE)

    def problem(self, root: PurePath) -> str | None:
        """The sentence the clerk reads when the live database may not live here (None when it may)."""
        if self.kind == NETWORK:
            return (
                f"数据目录 {root} 在网络盘上（{self.detail}）。数据库放在网络盘上可能损坏，本程序拒绝在此打开。"
                "请把数据目录放到本机硬盘（例如 D:\\yuexiu-desk），用 --data-dir 指定；网络盘只用来存放备份。"
            )
        if self.kind == REMOVABLE:
            return (
                f"数据目录 {root} 在 U 盘或移动硬盘上（{self.detail}）。拔出时正在写入的数据库会损坏，本程序拒绝在此打开。"
                "请把数据目录放到本机硬盘，用 --data-dir 指定；U 盘只用来存放备份。"
            )
        return None


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash in paths as \040, \011, \012, \134.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of a /proc/<pid>/mountinfo text, in file order (later mounts cover earlier ones)."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        tail = right.split()
        if len(fields) < 5 or len(tail) < 2:
            continue
        mounts.append(Mount(_unescape(fields[4]), tail[0], _unescape(tail[1]), fields[2]))
    return mounts


def mount_of(path: PurePath, mounts: list[Mount]) -> Mount | None:
    """The mount holding path: the longest mount point that contains it, the last one mounted if stacked."""
    best: Mount | None = None
    for mount in mounts:
        point = PurePath(mount.mount_point)
        if (path == point or point in path.parents) and (
            best is None or len(point.parts) >= len(PurePath(best.mount_point).parts)
        ):
            best = mount
    return best


def _block_device_removable(device: str, sys_root: Path) -> bool:
    """Whether a block device (major:minor) is a removable or USB-attached disk, per sysfs."""
    node = sys_root / "dev" / "block" / device
    try:
        real = node.resolve(strict=True)
    except OSError:
        return False
    if "/usb" in real.as_posix():
        return True  # USB sticks and USB hard disks (the latter often say removable=0)
    for folder in (real, real.parent):
        flag = folder / "removable"
        try:
            if flag.read_text().strip() == "1":
                return True
        except OSError:
            continue
    return False


def linux_location(path: PurePath, mountinfo: str, sys_root: Path = Path("/sys")) -> DataLocation:
    mount = mount_of(path, parse_mountinfo(mountinfo))
    if mount is None:
        return DataLocation(UNKNOWN, "找不到挂载点")
    detail = f"{mount.fstype} {mount.source} 挂载于 {mount.mount_point}"
    fstype = mount.fstype.lower()
    if fstype in NETWORK_FSTYPES or fstype.startswith(("nfs", "cifs", "smb")):
        return DataLocation(NETWORK, detail)
    if _block_device_removable(mount.device, sys_root):
        return DataLocation(REMOVABLE, detail)
    return DataLocation(LOCAL, detail)


def windows_location(path: PurePath, drive_type: int | None = None) -> DataLocation:
    """Windows: a UNC path (\\\\server\\share) or a mapped network drive is remote; a USB stick removable."""
    anchor = path.anchor or str(path)
    if anchor.startswith(("\\\\", "//")) and not anchor.startswith(("\\\\?\\", "\\\\.\\")):
        return DataLocation(NETWORK, f"网络路径 {anchor}")
    if drive_type is None:
        import ctypes

        drive_type = int(ctypes.windll.kernel32.GetDriveTypeW(anchor))  # type: ignore[attr-defined]
    if drive_type == DRIVE_REMOTE:
        return DataLocation(NETWORK, f"网络驱动器 {anchor}")
    if drive_type == DRIVE_REMOVABLE:
        return DataLocation(REMOVABLE, f"可移动磁盘 {anchor}")
    return DataLocation(LOCAL, f"本地磁盘 {anchor}")


def data_location(root: Path) -> DataLocation:
    """Where root (an existing folder, or the nearest existing parent) lives on this machine."""
    path = Path(root).resolve()
    while not path.exists() and path.parent != path:
        path = path.parent
    try:
        if sys.platform == "win32":
            return windows_location(path)
        if sys.platform.startswith("linux"):
            return linux_location(path, Path("/proc/self/mountinfo").read_text(encoding="utf-8"))
    except OSError as exc:
        return DataLocation(UNKNOWN, f"无法判断（{exc.strerror or exc}）")
    return DataLocation(UNKNOWN, f"未检查（{os.name}）")
