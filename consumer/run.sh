#!/usr/bin/env bash
# A user's first five minutes, automated: install DualPipe, depend on it from a separate project
# (consumer/pom.xml), and compile and run the README's first snippet against the installed jars on
# the class path and on the module path, on JDK 17 and (where present) JDK 25. Fails on any output
# to stderr (a warning) or a wrong answer.
#
# DualPipe is installed into target/consumer-m2, a local repository whose every other group is a
# link into ~/.m2/repository: third-party artifacts are shared, DualPipe's snapshots never leave it.
#
#   bash consumer/run.sh            # JDK 17 is `java` on PATH; JDK 25 from $JDK25 or the default path
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
USER_REPO=${USER_REPO:-$HOME/.m2/repository}
REPO=$ROOT/target/consumer-m2
JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
OUT=$ROOT/consumer/target

rm -rf "$REPO" "$OUT"
mkdir -p "$REPO/io" "$OUT"
for d in "$USER_REPO"/*; do [ "$(basename "$d")" = io ] || ln -s "$d" "$REPO/"; done
if [ -d "$USER_REPO/io" ]; then
  for d in "$USER_REPO"/io/*; do [ "$(basename "$d")" = dualpipe ] || ln -s "$d" "$REPO/io/"; done
fi

echo "consumer: installing core and transport into $REPO"
mvn -B -q -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -Dmaven.repo.local="$REPO" -pl core,transport -am install
(cd consumer && mvn -B -q -Dmaven.repo.local="$REPO" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=target/lib)

# The dependency set a user gets (the SLF4J provider is the consumer's own choice, not DualPipe's).
deps=$(ls "$OUT"/lib/*.jar | grep -v slf4j-simple)
echo "consumer: DualPipe's dependency set: $(echo "$deps" | wc -l) jars, $(du -cb $deps | tail -1 | cut -f1) bytes:" \
  $(echo "$deps" | xargs -n1 basename | sed 's/\.jar$//' | tr '\n' ' ')

# The README's first ```java block, as it stands, in package hello.
mkdir -p "$OUT/src/hello"
{ echo "package hello;"; echo; awk '/^```java$/ {on=1; next} on && /^```$/ {exit} on {print}' README.md; } > "$OUT/src/hello/Hello.java"
grep -q "class Hello" "$OUT/src/hello/Hello.java" || { echo "consumer: README's first snippet is not class Hello" >&2; exit 1; }

check() { # label, expected stdout; runs the rest
  local label=$1 want=$2; shift 2
  local out err
  err=$(mktemp)
  out=$("$@" 2>"$err") || { echo "consumer: $label failed:" >&2; cat "$err" >&2; rm -f "$err"; exit 1; }
  if [ -s "$err" ] || [ "$out" != "$want" ]; then
    echo "consumer: $label: want '$want' and an empty stderr, got '$out' and:" >&2; cat "$err" >&2; rm -f "$err"; exit 1
  fi
  rm -f "$err"
  echo "consumer: $label: $out"
}

run_on() { # java home, native-access flags for class path and module path
  local home=$1 cpflag=$2 mpflag=$3 v
  v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
  rm -rf "$OUT/cp" "$OUT/mp"
  "$home/bin/javac" -Werror -d "$OUT/cp" -cp "$OUT/lib/*" "$OUT/src/hello/Hello.java"
  "$home/bin/javac" -Werror -d "$OUT/mp" --module-path "$OUT/lib" consumer/src/module/module-info.java "$OUT/src/hello/Hello.java"
  check "JDK $v class path" "43, exit 0" "$home/bin/java" $cpflag -cp "$OUT/cp:$OUT/lib/*" hello.Hello
  check "JDK $v module path" "43, exit 0" "$home/bin/java" $mpflag --module-path "$OUT/mp:$OUT/lib" -m hello/hello.Hello
}

JDK17=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
run_on "$JDK17" "" ""
if [ -x "$JDK25/bin/java" ]; then
  run_on "$JDK25" "--enable-native-access=ALL-UNNAMED" "--enable-native-access=jffi"
else
  echo "consumer: no JDK 25 at $JDK25: ran JDK 17 only"
fi
