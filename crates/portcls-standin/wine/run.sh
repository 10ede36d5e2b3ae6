#!/bin/sh
# Runs rdmus.sys with the stand-in portcls.sys under Wine (issue 14): a private
# prefix, a wineserver that stays up, both modules in C:\windows\system32\drivers,
# rdmus registered as a kernel service (Type 1, Start 3) and started with `sc`;
# the stand-in runs its job, then the service is stopped (unload).
#
# usage: run.sh RDMUS_SYS PORTCLS_SYS JOB OUT_DIR [SECONDS]
#   JOB      the job file (format: crates/portcls-standin/src/job.rs)
#   OUT_DIR  receives standin.log, wire.tsv, out.wav, winedevice.log
#   SECONDS  how long the job may run before the service is stopped (default 10)
# Environment: WINE (default wine), WINEPREFIX (default OUT_DIR/prefix).
set -eu
rdmus=$1 portcls=$2 job=$3 out=$4 seconds=${5:-10}
WINE=${WINE:-wine}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export WINEPREFIX="${WINEPREFIX:-$out/prefix}"
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEDEBUG="${WINEDEBUG:-err+all,warn-all,fixme-all}"
mkdir -p "$WINEPREFIX"
wineserver -p
trap 'wineserver -k 2>/dev/null || true' EXIT
"$WINE" wineboot -i >/dev/null 2>&1
drivers="$WINEPREFIX/drive_c/windows/system32/drivers"
cp "$rdmus" "$drivers/rdmus.sys"
cp "$portcls" "$drivers/portcls.sys"
# The stand-in reads its job from and writes its output to C:\rdmus (see job.rs).
rm -rf "$WINEPREFIX/drive_c/rdmus"
mkdir -p "$WINEPREFIX/drive_c/rdmus"
cp "$job" "$WINEPREFIX/drive_c/rdmus/job.txt"
# services.exe reads the registry once, at its start: create the service through it.
"$WINE" sc create rdmus type= kernel start= demand \
    binpath= 'C:\windows\system32\drivers\rdmus.sys' >"$out/sc-create.txt" 2>&1 || true
"$WINE" sc start rdmus >"$out/sc-start.txt" 2>"$out/winedevice.log" || true
# The job writes done.txt when it has finished (or failed).
waited=0
while [ ! -e "$WINEPREFIX/drive_c/rdmus/done.txt" ] && [ "$waited" -lt "$seconds" ]; do
    sleep 1
    waited=$((waited + 1))
done
"$WINE" sc stop rdmus >"$out/sc-stop.txt" 2>>"$out/winedevice.log" || true
sleep 2
cp -r "$WINEPREFIX/drive_c/rdmus/." "$out/" 2>/dev/null || true
grep -hv wine32 "$out/sc-create.txt" "$out/sc-start.txt" "$out/sc-stop.txt" || true
