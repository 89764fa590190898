# Mounts a ROMFS image given as the script's first argument (a path ending in
# .romfs) at /rom with vfs.VfsRom and points the argument at /rom, so the
# .mpy in it run in place, as frozen modules or a ROMFS partition do on a
# board. The image's bytes stand in for flash: importers take their heap
# baseline after this, so the image counts there, never as the firmware's.
import sys


def mount_from_argv():
    if len(sys.argv) < 2 or not sys.argv[1].endswith(".romfs"):
        return
    import os
    import vfs

    rom = bytearray(os.stat(sys.argv[1])[6])
    with open(sys.argv[1], "rb") as f:
        f.readinto(rom)
    vfs.mount(vfs.VfsRom(rom), "/rom")
    sys.argv[1] = "/rom"
