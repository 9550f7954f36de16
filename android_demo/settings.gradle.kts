// The camera demo (:app) and its plain-Java processing core (:core), which is also built and
// tested without Gradle by core/run_tests.sh.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "asmnet-edge-demo"
include(":app", ":core")
