"""Where the data folder lives: mountinfo samples (local, NFS, CIFS, sshfs, 9p, USB), sysfs flags, Windows."""

from __future__ import annotations

from pathlib import Path, PurePath, PureWindowsPath

import pytest

from yuexiu_desk.storage.location import (
    DRIVE_REMOTE,
    DRIVE_REMOVABLE,
    LOCAL,
    NETWORK,
    REMOVABLE,
    data_location,
    linux_location,
    mount_of,
    parse_mountinfo,
    windows_location,
)

MOUNTINFO = r"""22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
25 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw,size=4014736k
40 22 0:35 / /srv/nas rw,relatime shared:20 - nfs4 nas.local:/export/station rw,vers=4.2,addr=10.0.0.5
41 22 0:36 / /mnt/share rw,relatime shared:21 - cifs //fileserver/办公 rw,vers=3.1.1
42 22 0:37 / /home/clerk/remote rw,nosuid,nodev,relatime shared:22 - fuse.sshfs clerk@host:/data rw,user_id=1000
43 22 0:38 / /mnt/c rw,noatime shared:23 - 9p drvfs rw,aname=drvfs;path=C:\;uid=1000
44 22 8:17 / /media/clerk/U\040DISK rw,nosuid,nodev,relatime shared:24 - vfat /dev/sdb1 rw,uid=1000
45 22 8:33 / /media/clerk/backup-hdd rw,nosuid,nodev,relatime shared:25 - ext4 /dev/sdc1 rw
46 40 254:1 /srv/local /srv/nas/over rw,relatime shared:1 - ext4 /dev/vda1 rw
"""


@pytest.fixture
def sys_root(tmp_path: Path) -> Path:
    """A fake /sys: vda a fixed disk, sdb a removable stick, sdc a USB hard disk that says removable=0."""
    devices = tmp_path / "devices"
    layout = {
        "254:1": ("pci0000:00/0000:00:05.0/virtio2/block/vda/vda1", "0"),
        "8:17": ("pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb/sdb1", "1"),
        "8:33": ("pci0000:00/0000:00:14.0/usb2/2-3/2-3:1.0/host7/target7:0:0/7:0:0:0/block/sdc/sdc1", "0"),
    }
    (tmp_path / "dev" / "block").mkdir(parents=True)
    for device, (where, removable) in layout.items():
        partition = devices / where
        partition.mkdir(parents=True)
        (partition.parent / "removable").write_text(f"{removable}\n")
        (tmp_path / "dev" / "block" / device).symlink_to(partition)
    return tmp_path


def test_parse_mountinfo_reads_points_types_sources_and_escapes() -> None:
    mounts = parse_mountinfo(MOUNTINFO + "garbage line without separator\n")
    assert len(mounts) == 10
    usb = next(m for m in mounts if m.fstype == "vfat")
    assert usb.mount_point == "/media/clerk/U DISK" and usb.source == "/dev/sdb1" and usb.device == "8:17"
    cifs = next(m for m in mounts if m.fstype == "cifs")
    assert cifs.source == "//fileserver/办公" and cifs.mount_point == "/mnt/share"


def test_mount_of_takes_the_longest_and_the_latest_mount_point() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    found = mount_of(PurePath("/srv/nas/station/data"), mounts)
    assert found is not None and found.fstype == "nfs4"
    found = mount_of(PurePath("/srv/nas/over/yuexiu"), mounts)
    assert found is not None and found.fstype == "ext4"  # a local folder mounted over part of the share
    found = mount_of(PurePath("/srv/nasty"), mounts)  # a name that only starts like the mount point
    assert found is not None and found.mount_point == "/"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/home/clerk/.local/share/yuexiu-desk", LOCAL),
        ("/srv/nas/station", NETWORK),
        ("/mnt/share/悦秀苑", NETWORK),
        ("/home/clerk/remote/station", NETWORK),
        ("/mnt/c/Users/clerk/yuexiu", NETWORK),
        ("/media/clerk/U DISK/yuexiu", REMOVABLE),
        ("/media/clerk/backup-hdd/yuexiu", REMOVABLE),
        ("/srv/nas/over/yuexiu", LOCAL),
    ],
)
def test_linux_location(path: str, kind: str, sys_root: Path) -> None:
    location = linux_location(Path(path), MOUNTINFO, sys_root)
    assert location.kind == kind, location
    problem = location.problem(Path(path))
    if kind == LOCAL:
        assert problem is None and location.detail.startswith("ext4 /dev/vda1")
    else:
        assert problem is not None and path in problem and "拒绝" in problem and "本机硬盘" in problem
        assert ("网络盘" if kind == NETWORK else "U 盘") in problem


def test_windows_location() -> None:
    local = windows_location(PureWindowsPath("C:/yuexiu"), drive_type=3)
    assert local.kind == LOCAL and local.detail == "本地磁盘 C:\\"
    remote = windows_location(PureWindowsPath("Z:/yuexiu"), drive_type=DRIVE_REMOTE)
    assert remote.kind == NETWORK and "网络驱动器 Z:" in remote.detail
    assert windows_location(PureWindowsPath("E:/yuexiu"), drive_type=DRIVE_REMOVABLE).kind == REMOVABLE
    # A UNC path is a network share whatever the drive type says; a \\?\ long path is not.
    assert windows_location(PureWindowsPath(r"\\server\share\yuexiu"), drive_type=3).kind == NETWORK
    assert windows_location(PureWindowsPath(r"\\?\C:\yuexiu"), drive_type=3).kind == LOCAL


def test_data_location_of_a_test_folder_is_local(tmp_path: Path) -> None:
    """On the test machine (Linux: read from /proc/self/mountinfo) a temporary folder is a local disk."""
    location = data_location(tmp_path / "not-yet" / "made")
    assert location.kind == LOCAL, location
    assert location.problem(tmp_path) is None
