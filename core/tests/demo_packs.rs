//! The bundled image demos ship as one zip each (`assets/demo/<set>/images.zip`, made by
//! tools/pack_demo.py), which the app unpacks with [`for_each_zip_image`]. Each pack must hold
//! exactly its folder's images (which the native tests, tools and evidence read), byte for byte,
//! named and ordered as the demo's manifest lists them: a pack left behind after the images
//! change fails here.

use std::path::Path;

use quarry_core::archive::for_each_zip_image;
use quarry_core::dataset::DemoManifest;

fn check(set: &str) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/demo")
        .join(set);
    let manifest = std::fs::read_to_string(folder.join("demo.json")).unwrap();
    let manifest = DemoManifest::from_json(&manifest).unwrap();
    let pack = std::fs::read(folder.join("images.zip"))
        .unwrap_or_else(|e| panic!("{set}: images.zip ({e}); run tools/pack_demo.py"));
    let mut entries = Vec::new();
    let mut skipped = 0;
    for_each_zip_image(&pack, &mut skipped, |name, bytes| {
        entries.push((name.to_string(), bytes))
    })
    .unwrap();
    assert_eq!(
        skipped, 0,
        "{set}: the pack holds entries that are not images"
    );
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names, manifest.items,
        "{set}: the pack's entries are not the manifest's items"
    );
    for (name, bytes) in &entries {
        let file = std::fs::read(folder.join("images").join(name)).unwrap();
        assert!(
            *bytes == file,
            "{set}: {name} in the pack differs from images/{name}; run tools/pack_demo.py"
        );
    }
    let on_disk = std::fs::read_dir(folder.join("images")).unwrap().count();
    assert_eq!(
        on_disk,
        entries.len(),
        "{set}: images/ holds files the pack lacks"
    );
}

#[test]
fn emoji_pack_holds_its_images() {
    check("emoji");
}

#[test]
fn fashion_pack_holds_its_images() {
    check("fashion");
}
