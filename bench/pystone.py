"""The classic pystone benchmark (Dhrystone 2.1 translated to Python), for
scaling our tick cost from a PC's MicroPython VM to an ESP32's.

Runs unchanged on CPython and MicroPython. `pystones(loops)` returns
(seconds, pystones per second). The figure it gives is only meaningful next
to other pystone figures, such as the 1661 pystones/s published for
MicroPython on an ESP32 at 240 MHz.
"""
import time

IDENT1, IDENT2, IDENT3, IDENT4, IDENT5 = 1, 2, 3, 4, 5


def _clock():
    if hasattr(time, "ticks_us"):
        return time.ticks_us() / 1e6
    return time.perf_counter()


class Record:
    def __init__(self, ptr_comp=None, discr=0, enum_comp=0, int_comp=0, string_comp=0):
        self.ptr_comp = ptr_comp
        self.discr = discr
        self.enum_comp = enum_comp
        self.int_comp = int_comp
        self.string_comp = string_comp

    def copy(self):
        return Record(self.ptr_comp, self.discr, self.enum_comp,
                      self.int_comp, self.string_comp)


class _G:
    int_glob = 0
    bool_glob = False
    char1 = "\0"
    char2 = "\0"
    array1 = None
    array2 = None
    ptr = None
    ptr_next = None


def pystones(loops=20000):
    g = _G
    g.array1 = [0] * 51
    g.array2 = [[0] * 51 for _ in range(51)]
    start = _clock()
    for _ in range(loops):
        pass
    null_time = _clock() - start

    g.ptr_next = Record()
    g.ptr = Record()
    g.ptr.ptr_comp = g.ptr_next
    g.ptr.discr = IDENT1
    g.ptr.enum_comp = IDENT3
    g.ptr.int_comp = 40
    g.ptr.string_comp = "DHRYSTONE PROGRAM, SOME STRING"
    string1 = "DHRYSTONE PROGRAM, 1'ST STRING"
    g.array2[8][7] = 10

    start = _clock()
    for _ in range(loops):
        proc5()
        proc4()
        int1 = 2
        int2 = 3
        string2 = "DHRYSTONE PROGRAM, 2'ND STRING"
        enum_loc = IDENT2
        g.bool_glob = not func2(string1, string2)
        while int1 < int2:
            int3 = 5 * int1 - int2
            int3 = proc7(int1, int2)
            int1 = int1 + 1
        proc8(g.array1, g.array2, int1, int3)
        g.ptr = proc1(g.ptr)
        char_index = "A"
        while char_index <= g.char2:
            if enum_loc == func1(char_index, "C"):
                enum_loc = proc6(IDENT1)
            char_index = chr(ord(char_index) + 1)
        int3 = int2 * int1
        int2 = int3 // int1
        int2 = 7 * (int3 - int2) - int1
        int1 = proc2(int1)
    bench_time = _clock() - start - null_time
    if bench_time <= 0:
        return bench_time, 0.0
    return bench_time, loops / bench_time


def proc1(par_in):
    g = _G
    par_in.ptr_comp = next_record = g.ptr.copy()
    par_in.int_comp = 5
    next_record.int_comp = par_in.int_comp
    next_record.ptr_comp = par_in.ptr_comp
    next_record.ptr_comp = proc3(next_record.ptr_comp)
    if next_record.discr == IDENT1:
        next_record.int_comp = 6
        next_record.enum_comp = proc6(par_in.enum_comp)
        next_record.ptr_comp = g.ptr.ptr_comp
        next_record.int_comp = proc7(next_record.int_comp, 10)
    else:
        par_in = next_record.copy()
    next_record.ptr_comp = None
    return par_in


def proc2(par_io):
    g = _G
    int_loc = par_io + 10
    enum_loc = 0
    while True:
        if g.char1 == "A":
            int_loc = int_loc - 1
            par_io = int_loc - g.int_glob
            enum_loc = IDENT1
        if enum_loc == IDENT1:
            break
    return par_io


def proc3(par_out):
    g = _G
    if g.ptr is not None:
        par_out = g.ptr.ptr_comp
    else:
        g.int_glob = 100
    g.ptr.int_comp = proc7(10, g.int_glob)
    return par_out


def proc4():
    g = _G
    bool_loc = g.char1 == "A"
    bool_loc = bool_loc or g.bool_glob
    g.char2 = "B"


def proc5():
    g = _G
    g.char1 = "A"
    g.bool_glob = False


def proc6(par_in):
    par_out = par_in
    if not func3(par_in):
        par_out = IDENT4
    if par_in == IDENT1:
        par_out = IDENT1
    elif par_in == IDENT2:
        par_out = IDENT1 if _G.int_glob > 100 else IDENT4
    elif par_in == IDENT3:
        par_out = IDENT2
    elif par_in == IDENT4:
        pass
    elif par_in == IDENT5:
        par_out = IDENT3
    return par_out


def proc7(par1, par2):
    int_loc = par1 + 2
    return par2 + int_loc


def proc8(array1, array2, par1, par2):
    int_loc = par1 + 5
    array1[int_loc] = par2
    array1[int_loc + 1] = array1[int_loc]
    array1[int_loc + 30] = int_loc
    for index in range(int_loc, int_loc + 2):
        array2[int_loc][index] = int_loc
    array2[int_loc][int_loc - 1] = array2[int_loc][int_loc - 1] + 1
    array2[int_loc + 20][int_loc] = array1[int_loc]
    _G.int_glob = 5


def func1(char1, char2):
    char_loc1 = char1
    char_loc2 = char_loc1
    if char_loc2 != char2:
        return IDENT1
    return IDENT2


def func2(str1, str2):
    int_loc = 1
    char_loc = "\0"
    while int_loc <= 1:
        if func1(str1[int_loc], str2[int_loc + 1]) == IDENT1:
            char_loc = "A"
            int_loc = int_loc + 1
    if "W" <= char_loc <= "Z":
        int_loc = 7
    if char_loc == "X":
        return True
    if str1 > str2:
        int_loc = int_loc + 7
        return True
    return False


def func3(par_in):
    return par_in == IDENT3


if __name__ == "__main__":
    t, rate = pystones()
    print("pystones_per_s", int(rate))
