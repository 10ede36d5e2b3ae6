#!/bin/sh
# Runs rdmus.sys with the stand-in portcls.sys under Wine (issue 14): a private
# prefix, a wineserver that stays up, the modules in C:\windows\system32\drivers,
# rdmus registered as a kernel service through services.exe (sc create type=
# kernel) and started; the stand-in runs its job (writing C:\rdmus\done.txt
# last), then the service is stopped (unload) and C:\rdmus is collected.
# crates/wine-run (h-wine) is the harness CI uses; this script is the manual
# equivalent.
#
# usage: run.sh RDMUS_SYS PORTCLS_SYS JOB OUT_DIR [SECONDS [EXTRA_MODULE...]]
#   JOB           the job file (format: crates/portcls-standin/src/job.rs)
#   OUT_DIR       receives what the stand-in wrote (standin.log, wire.tsv,
#                 pool.txt, unload.txt, done.txt) and the Wine output (wine.log)
#   SECONDS       how long the job may run before the service is stopped (default 20)
#   EXTRA_MODULE  further modules for the drivers directory (a shim)
# Environment: WINE (default wine); TEMPLATE, a prefix made by `wineboot -i` to
# copy (default: make one in OUT_DIR/prefix, which takes about 30 s); JOB_FILES,
# further files for C:\rdmus (a synth job's DLS bank).
set -eu
rdmus=$1 portcls=$2 job=$3 out=$4 seconds=${5:-20}
shift 4
[ $# -gt 0 ] && shift
WINE=${WINE:-wine}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export WINEPREFIX="$out/prefix"
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEDEBUG="${WINEDEBUG:-err+all,fixme-all}"
rm -rf "$WINEPREFIX"
if [ -n "${TEMPLATE:-}" ]; then
    cp -a "$TEMPLATE" "$WINEPREFIX"
else
    mkdir -p "$WINEPREFIX"
fi
wine_log="$out/wine.log"
: >"$wine_log"
wineserver -p
trap 'wineserver -k 2>/dev/null || true' EXIT
[ -n "${TEMPLATE:-}" ] || "$WINE" wineboot -i >>"$wine_log" 2>&1
drivers="$WINEPREFIX/drive_c/windows/system32/drivers"
cp "$rdmus" "$drivers/rdmus.sys"
cp "$portcls" "$drivers/portcls.sys"
for module in "$@"; do cp "$module" "$drivers/"; done
mkdir -p "$WINEPREFIX/drive_c/rdmus"
cp "$job" "$WINEPREFIX/drive_c/rdmus/job.txt"
for file in ${JOB_FILES:-}; do cp "$file" "$WINEPREFIX/drive_c/rdmus/"; done
"$WINE" sc create rdmus type= kernel start= demand \
    binpath= 'C:\windows\system32\drivers\rdmus.sys' >>"$wine_log" 2>&1 || true
"$WINE" sc start rdmus >>"$wine_log" 2>&1 || true
waited=0
while [ ! -e "$WINEPREFIX/drive_c/rdmus/done.txt" ] && [ "$waited" -lt "$seconds" ]; do
    sleep 1
    waited=$((waited + 1))
done
"$WINE" sc stop rdmus >>"$wine_log" 2>&1 || true
waited=0
while ! "$WINE" sc query rdmus 2>/dev/null | grep -q STOPPED && [ "$waited" -lt 10 ]; do
    sleep 1
    waited=$((waited + 1))
done
sleep 1
cp -r "$WINEPREFIX/drive_c/rdmus/." "$out/"
grep -v 'wine32\|multiarch\|dpkg --add\|apt-get install' "$wine_log" | tail -20 || true
