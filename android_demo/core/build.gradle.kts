// Plain Java 17, no Android dependency: the same sources are compiled by core/run_tests.sh with
// javac and tested against vectors from the Python runtime. Under Gradle the parity tests need
//   ./gradlew :core:test -PasmnetVectors=/absolute/path/to/vectors
// and are skipped without it (the unit tests still run).
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

dependencies {
    testImplementation(libs.junit)
}

tasks.test {
    systemProperty("asmnet.vectors", providers.gradleProperty("asmnetVectors").getOrElse(""))
}
