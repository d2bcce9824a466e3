# Size report of one firmware ELF from `ft32-elf-nm` output (symbols of startup/ft900.ld).
# Usage: ft32-elf-nm x.elf | awk -v name=x.elf [-v high_water=N] -f size-report.awk
# Prints: program memory used of 256 KiB, RAM used (.data incl. .rodata + .bss + .noinit) of
# 64 KiB, what is left for the stack (which must stay above __STACK_MIN; the link checks it), the
# stack's measured high-water mark when given (a figure recorded from runs on the simulator, which
# a test holds the firmware to), and what is free beyond the firmware's minimum stack (RAM an
# application may still use).
function hex(s,    i, c, v) {
    v = 0
    s = tolower(s)
    for (i = 1; i <= length(s); i++) {
        c = index("0123456789abcdef", substr(s, i, 1)) - 1
        v = v * 16 + c
    }
    return v
}
{ sym[$3] = hex($1) }
END {
    pm_size = 262144; ram_size = 65536; bias = 8388608
    pm = sym["__data_load_end"]
    data = sym["__data_end"] - sym["__data_start"]
    bss = sym["__bss_end"] - sym["__bss_start"]
    noinit = sym["__noinit_end"] - sym["__noinit_start"]
    ram = sym["_end"] - bias
    headroom = ram_size - ram
    measured = high_water != "" ? sprintf(", measured high-water %d", high_water) : ""
    printf "size: %-18s PM %6d / %d (%4.1f%%)  RAM %5d / %d (%4.1f%%: data %d + bss %d + noinit %d)  stack headroom %d (min %d%s), free %d\n", \
        name, pm, pm_size, 100.0 * pm / pm_size, ram, ram_size, 100.0 * ram / ram_size, \
        data, bss, noinit, headroom, sym["__STACK_MIN"], measured, headroom - sym["__STACK_MIN"]
}
