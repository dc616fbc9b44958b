#!/bin/sh
# embed.sh SYMBOL FILE...: print C source defining `const char SYMBOL_N[]` for each FILE (its
# bytes plus a NUL), then `const char *const SYMBOL[]` listing them and SYMBOL_names[] with the
# file names. Used to build SQL migrations and web assets into the binaries without xxd.
set -eu
sym=$1
shift
i=0
for f in "$@"; do
    printf 'static const char %s_%d[] = {\n' "$sym" "$i"
    od -An -v -tx1 "$f" | awk '{ for (i = 1; i <= NF; i++) printf "0x%s,", $i; print "" }'
    printf '0x00};\n'
    i=$((i + 1))
done
printf 'const char *const %s[] = {' "$sym"
i=0
for f in "$@"; do printf '%s_%d, ' "$sym" "$i"; i=$((i + 1)); done
printf 'NULL};\n'
printf 'const char *const %s_names[] = {' "$sym"
for f in "$@"; do printf '"%s", ' "$(basename "$f")"; done
printf 'NULL};\n'
