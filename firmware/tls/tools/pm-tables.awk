# pm-tables.awk - copies one mbedTLS source file with some of its constant tables moved to
# program memory (tls/module.mk runs it at build time; mbedTLS itself is never modified).
#
#   awk -v tables="FSb FT0" -v source=library/aes.c -f pm-tables.awk library/aes.c > aes.c
#
# Why: the FT900's .rodata is copied into RAM (C pointers address RAM), so a constant table
# costs its size twice, in PM and in RAM. A table declared `static const __flash__` in section
# ._pm.* stays in PM only, and GCC reads it with lpm wherever the code indexes it. That works
# for tables the code only indexes by name (never passes as a pointer: GCC refuses to convert a
# __flash__ address to a generic pointer, so a wrong choice fails the build, never the run).
#
# Each declaration `static const TYPE NAME[...]` of a named table gets `__flash__` and
# `__attribute__((section("._pm.mbedtls_NAME")))`. Every named table must be declared exactly
# once on such a line, or the script fails (a new mbedTLS release that renames one is caught).
# A #line directive keeps compiler messages and debug lines pointing at the original file.
BEGIN {
    n = split(tables, want, " ")
    if (n == 0) {
        print "pm-tables.awk: no table named (-v tables=...)" > "/dev/stderr"
        failed = 1
        exit 1
    }
    for (i = 1; i <= n; i++)
        count[want[i]] = 0
    printf "#line 1 \"%s\"\n", source
}
/^static const / {
    for (i = 1; i <= n; i++) {
        name = want[i]
        # "NAME[" as a whole word after the type.
        pos = index($0, " " name "[")
        if (pos == 0)
            continue
        rest = substr($0, pos + 1)
        close_at = index(rest, "]")
        if (close_at == 0)
            continue
        line = substr($0, 1, pos) substr(rest, 1, close_at) \
            " __attribute__((section(\"._pm.mbedtls_" name "\")))" substr(rest, close_at + 1)
        sub(/^static const /, "static const __flash__ ", line)
        $0 = line
        count[name]++
        break
    }
}
{ print }
END {
    if (failed)
        exit 1
    for (i = 1; i <= n; i++) {
        if (count[want[i]] != 1) {
            printf "pm-tables.awk: %s: table %s declared %d times on a `static const` line " \
                "(expected 1)\n", source, want[i], count[want[i]] > "/dev/stderr"
            failed = 1
        }
    }
    exit failed
}
