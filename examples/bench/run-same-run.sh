#!/usr/bin/env bash
# The issue-12 workloads (W5T, W5L, W2, W3), each beside its baseline, in one run.
# First: mvn -q -pl examples -am -DskipTests package
cd "$(dirname "$0")/../.."
CP="examples/target/classes:examples/target/lib/*"
B=io.dualpipe.examples.bench
ld() { echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)"; }
echo "== $(date) $(java -version 2>&1 | head -1)"; ld
echo "== W5T one loop";  java -cp "$CP" $B.MessageBench W5T clients=16 msgs=500000 window=32; ld
echo "== W5T two loops"; java -cp "$CP" $B.MessageBench W5T clients=16 msgs=500000 window=32 loops=2; ld
echo "== W5L pinned to CPU 1"; taskset -c 1 java -cp "$CP" $B.MessageBench W5L warmup=20000 iters=100000; ld
echo "== W2"; java -cp "$CP" $B.BulkBench rounds=5; ld
echo "== W3 vs PB"; java -cp "$CP" $B.ProcessBench W3 n=1000 rounds=100 impl=both
echo "== W3 tuned (-Xms16m -Xmx96m -XX:+UseSerialGC)"; java -Xms16m -Xmx96m -XX:+UseSerialGC -cp "$CP" $B.ProcessBench W3 n=1000 rounds=100 impl=both
echo "== W3 loops"; java -cp "$CP" $B.ProcessBench W3 n=1000 rounds=100 impl=dualpipe loops=1,2
echo "== path"; java -cp "$CP" $B.MessagePathBench timeout_ms=0 api=futures | tail -1; java -cp "$CP" $B.MessagePathBench timeout_ms=0 api=listener | tail -1
echo "== end $(date)"; ld
