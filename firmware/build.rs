use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target = env::var("TARGET").unwrap();
    let (src, desc) = if target.starts_with("thumbv6m") {
        (
            "memory-microbit.x",
            "Cortex-M0 (thumbv6m-none-eabi, QEMU microbit)",
        )
    } else {
        (
            "memory-mps2-an386.x",
            "Cortex-M4F (thumbv7em-none-eabihf, QEMU mps2-an386)",
        )
    };
    fs::copy(src, out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-env=TARGET_DESC={desc}");
    for f in [
        "memory-microbit.x",
        "memory-mps2-an386.x",
        "build.rs",
        "data",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }
}
