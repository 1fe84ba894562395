#!/bin/sh
# An output path that is a FIFO (like /dev/null or /dev/stdout) is written in
# place: the atomic writer's rename must never replace it with a regular file
# (as root, `--report /dev/null` once did that to /dev/null).
# Usage: output_to_fifo.sh QEDISIM SCENARIO (in a scratch directory)
set -eu
qedisim=$1 scenario=$2
rm -rf fifo && mkdir fifo && mkfifo fifo/report fifo/trace
cat fifo/report > fifo/report.out &
r=$!
cat fifo/trace > fifo/trace.out &
t=$!
"$qedisim" run "$scenario" -q --report fifo/report --trace fifo/trace
wait $r $t
test -p fifo/report || { echo "fifo/report is no longer a FIFO"; exit 1; }
test -p fifo/trace || { echo "fifo/trace is no longer a FIFO"; exit 1; }
grep -q '"counters"' fifo/report.out || { echo "the report did not go through the FIFO"; exit 1; }
grep -q traceEvents fifo/trace.out || { echo "the trace did not go through the FIFO"; exit 1; }
if ls fifo | grep -q tmp; then echo "a temporary file was left: $(ls fifo)"; exit 1; fi
