// Plugin versions live in gradle/libs.versions.toml (pinned; tests/android/test_static.py checks it).
plugins {
    alias(libs.plugins.android.application) apply false
    alias(libs.plugins.kotlin.android) apply false
}
