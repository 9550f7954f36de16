#!/usr/bin/env bash
# Build the plain-Java core with javac 17 and run its JUnit 4 tests, including the parity tests
# against reference vectors written by the Python runtime. No Gradle, Maven or network needed.
#
#   python scripts/android_vectors.py build/android_vectors
#   android_demo/core/run_tests.sh build/android_vectors
#
# Needs: javac/java 17+ and JUnit 4 with Hamcrest (Debian: apt-get install -y openjdk-17-jdk-headless
# junit4). Override the jar locations with JUNIT_JAR / HAMCREST_JAR.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 VECTORS_DIR   (write it with: python scripts/android_vectors.py VECTORS_DIR)" >&2
    exit 2
fi
VECTORS=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
JUNIT_JAR=${JUNIT_JAR:-/usr/share/java/junit4.jar}
HAMCREST_JAR=${HAMCREST_JAR:-/usr/share/java/hamcrest.jar}
for jar in "$JUNIT_JAR" "$HAMCREST_JAR"; do
    if [ ! -f "$jar" ]; then
        echo "missing $jar: apt-get install -y junit4 (or set JUNIT_JAR / HAMCREST_JAR)" >&2
        exit 2
    fi
done

BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
mapfile -t MAIN_SOURCES < <(find "$HERE/src/main/java" -name '*.java' | sort)
mapfile -t TEST_SOURCES < <(find "$HERE/src/test/java" -name '*.java' | sort)

# -Werror on the core: a lint warning in code that ships in the app is a build failure
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$BUILD/main" "${MAIN_SOURCES[@]}"
javac --release 17 -Xlint:all -encoding UTF-8 -d "$BUILD/test" -cp "$BUILD/main:$JUNIT_JAR" "${TEST_SOURCES[@]}"

TEST_CLASSES=()
for source in "${TEST_SOURCES[@]}"; do
    case "$source" in
        *Test.java)
            relative=${source#"$HERE/src/test/java/"}
            relative=${relative%.java}
            TEST_CLASSES+=("${relative//\//.}")
            ;;
    esac
done

java -Dasmnet.vectors="$VECTORS" -cp "$BUILD/main:$BUILD/test:$JUNIT_JAR:$HAMCREST_JAR" \
    org.junit.runner.JUnitCore "${TEST_CLASSES[@]}"
