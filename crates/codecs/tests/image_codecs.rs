//! Cross-codec tests: lossless round trips (property tests), determinism, bounds for the lossy
//! codecs, interoperability with reference tools, and robustness against bad files.

use mpq_codecs::{codec, image::load, registry, registry_for};
use mpq_core::{Image, Media, Modality, Params, PixelFormat, codec::parse_param_pairs};
use proptest::prelude::*;

fn gradient(w: u32, h: u32, format: PixelFormat) -> Image {
    let mut data = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let r = (x * 255 / w.max(1)) as u8;
            let g = (y * 255 / h.max(1)) as u8;
            let b = ((x + y) * 255 / (w + h).max(1)) as u8;
            match format {
                PixelFormat::Gray8 => data.push(r / 2 + g / 2),
                PixelFormat::Rgb8 => data.extend([r, g, b]),
                PixelFormat::Rgba8 => data.extend([r, g, b, (x * 3 % 256) as u8]),
            }
        }
    }
    Image::new(w, h, format, data).unwrap()
}

fn psnr(a: &Image, b: &Image) -> f64 {
    let (a, b) = (a.to_rgb8(), b.to_rgb8());
    let mse: f64 = a.data().iter().zip(b.data()).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>()
        / a.data().len() as f64;
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

fn roundtrip(id: &str, img: &Image, params: &Params) -> (Vec<u8>, Image) {
    let c = codec(id).unwrap();
    let bytes = c.encode(&Media::Image(img.clone()), params).unwrap();
    let back = c.decode(&bytes).unwrap().into_image().unwrap();
    (bytes, back)
}

fn arb_image() -> impl Strategy<Value = Image> {
    (1u32..40, 1u32..40, prop_oneof![Just(PixelFormat::Gray8), Just(PixelFormat::Rgb8), Just(PixelFormat::Rgba8)])
        .prop_flat_map(|(w, h, f)| {
            proptest::collection::vec(any::<u8>(), (w * h) as usize * f.channels())
                .prop_map(move |data| Image::new(w, h, f, data).unwrap())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// decode(encode(x)) == x, bit for bit, for every lossless codec and every pixel format
    /// (compared as RGBA: QOI widens gray to RGB, which keeps every value).
    #[test]
    fn lossless_codecs_roundtrip_exactly(img in arb_image()) {
        for c in registry().iter().filter(|c| c.lossless() && c.modality() == Modality::Image) {
            let bytes = c.encode(&Media::Image(img.clone()), &Params::new()).unwrap();
            let back = c.decode(&bytes).unwrap().into_image().unwrap();
            prop_assert_eq!(back.to_rgba8(), img.to_rgba8(), "codec {}", c.id());
        }
    }

    /// No decoder panics on arbitrary bytes, and the sniffing loader neither.
    #[test]
    fn decoders_never_panic_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for c in registry() {
            let _ = c.decode(&bytes);
        }
        let _ = load(&bytes);
    }
}

#[test]
fn encoders_are_deterministic() {
    let img = gradient(67, 45, PixelFormat::Rgb8);
    for c in registry_for(Modality::Image) {
        let a = c.encode(&Media::Image(img.clone()), &Params::new()).unwrap();
        let b = c.encode(&Media::Image(img.clone()), &Params::new()).unwrap();
        assert_eq!(a, b, "{} is not deterministic", c.id());
    }
}

#[test]
fn jpeg_quality_trades_bytes_for_fidelity() {
    let img = gradient(96, 64, PixelFormat::Rgb8);
    let mut last_bytes = 0;
    let mut last_psnr = 0.0;
    for q in [5, 30, 60, 90] {
        let params = parse_param_pairs([format!("quality={q}").as_str()]).unwrap();
        let (bytes, back) = roundtrip("jpeg", &img, &params);
        assert_eq!((back.width(), back.height()), (96, 64));
        let p = psnr(&img, &back);
        assert!(bytes.len() > last_bytes, "q={q}: {} bytes", bytes.len());
        assert!(p > last_psnr, "q={q}: {p} dB");
        last_bytes = bytes.len();
        last_psnr = p;
    }
    assert!(last_psnr > 35.0, "q=90 gives only {last_psnr} dB on a smooth gradient");
    // Subsampling changes the bytes.
    let a = roundtrip("jpeg", &img, &parse_param_pairs(["subsampling=4:4:4"]).unwrap()).0;
    let b = roundtrip("jpeg", &img, &parse_param_pairs(["subsampling=4:2:0"]).unwrap()).0;
    assert!(a.len() > b.len());
}

#[test]
fn jpeg_keeps_gray_and_odd_sizes() {
    let img = gradient(33, 17, PixelFormat::Gray8);
    let (_, back) = roundtrip("jpeg", &img, &parse_param_pairs(["quality=95"]).unwrap());
    assert_eq!(back.format(), PixelFormat::Gray8);
    assert!(psnr(&img, &back) > 35.0);
}

#[test]
fn bad_params_are_errors_not_panics() {
    let img = Media::Image(gradient(8, 8, PixelFormat::Rgb8));
    for (id, p) in [("jpeg", "quality=0"), ("jpeg", "quality=101"), ("png", "level=10"), ("qoi", "x=1"), ("jpeg", "subsampling=9"), ("webp-ll-down", "scale=9"), ("webp-ll-down", "scale=101")] {
        let params = parse_param_pairs([p]).unwrap();
        assert!(codec(id).unwrap().encode(&img, &params).is_err(), "{id} {p}");
    }
}

#[test]
fn truncated_files_are_errors() {
    let img = gradient(40, 30, PixelFormat::Rgb8);
    for c in registry_for(Modality::Image) {
        let bytes = c.encode(&Media::Image(img.clone()), &Params::new()).unwrap();
        for cut in [0, 1, 8, 16, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
            // Must not panic; a lossy format may legitimately fill in a truncated tail.
            let r = c.decode(&bytes[..cut]);
            if cut < 16 {
                assert!(r.is_err(), "{} accepted a {cut}-byte file", c.id());
            }
        }
    }
}

#[test]
fn load_sniffs_every_format_we_write() {
    let img = gradient(20, 10, PixelFormat::Rgb8);
    // Codecs with their own container (webp-ll-down: a header, then WebP) write no image file.
    for c in registry().into_iter().filter(|c| c.mime().starts_with("image/")) {
        let bytes = c.encode(&Media::Image(img.clone()), &Params::new()).unwrap();
        let loaded = load(&bytes).unwrap_or_else(|e| panic!("{}: {e}", c.id()));
        assert_eq!((loaded.width(), loaded.height()), (20, 10), "{}", c.id());
    }
    assert!(load(b"GIF89a....").is_err());
    assert!(load(b"").is_err());
}

/// Our PNG decodes with an independent decoder (zune-png) to the same pixels.
#[test]
fn png_interop_with_zune_png() {
    for format in [PixelFormat::Gray8, PixelFormat::Rgb8, PixelFormat::Rgba8] {
        let img = gradient(31, 23, format);
        let bytes = codec("png").unwrap().encode(&Media::Image(img.clone()), &Params::new()).unwrap();
        let mut dec = zune_png::PngDecoder::new(zune_png::zune_core::bytestream::ZCursor::new(&bytes));
        let pixels = dec.decode_raw().unwrap();
        assert_eq!(pixels, img.data(), "{format:?}");
    }
}

// --- reference tools: djpeg / cjpeg (libjpeg-turbo). Required when MPQ_REQUIRE_TOOLS=1 (CI). ---

fn tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        assert!(
            std::env::var("MPQ_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{name} is required (MPQ_REQUIRE_TOOLS=1) but not on PATH: install libjpeg-turbo-progs"
        );
        eprintln!("skipping: {name} not on PATH");
    }
    found
}

fn parse_ppm(bytes: &[u8]) -> Image {
    // Binary PPM (P6) / PGM (P5) with maxval 255, as djpeg writes it.
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..i]).unwrap().to_string());
    }
    let data = bytes[i + 1..].to_vec();
    let (w, h): (u32, u32) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let format = if fields[0] == "P5" { PixelFormat::Gray8 } else { PixelFormat::Rgb8 };
    Image::new(w, h, format, data).unwrap()
}

/// The chroma setting: averaging the subsampled pixels (libjpeg's way) keeps more of a photo's
/// colour than the top-left pixel; the default stays the top-left pixel, the bytes of old links.
#[test]
fn averaged_chroma_is_nearer_and_the_default_keeps_old_bytes() {
    let photo = load(&std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/gallery/coffee.png")).unwrap()).unwrap();
    let at = |extra: &[&str]| {
        let mut pairs = vec!["quality=75"];
        pairs.extend_from_slice(extra);
        roundtrip("jpeg", &photo, &parse_param_pairs(pairs).unwrap())
    };
    let (default_bytes, _) = at(&[]);
    let (nearest_bytes, nearest) = at(&["chroma=nearest"]);
    let (average_bytes, average) = at(&["chroma=average"]);
    assert_eq!(default_bytes, nearest_bytes, "the default is the old behaviour");
    assert_ne!(nearest_bytes, average_bytes);
    let (pn, pa) = (psnr(&photo, &nearest), psnr(&photo, &average));
    assert!(pa > pn + 0.1, "average {pa:.2} dB vs nearest {pn:.2} dB");
    // At 4:4:4 there is nothing to downsample: the same bytes.
    assert_eq!(at(&["subsampling=4:4:4", "chroma=nearest"]).0, at(&["subsampling=4:4:4", "chroma=average"]).0);
}

#[test]
fn our_jpeg_decodes_with_djpeg() {
    let Some(djpeg) = tool("djpeg") else { return };
    let dir = std::env::temp_dir().join(format!("mpq-djpeg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (sub, format, chroma) in [
        ("4:2:0", PixelFormat::Rgb8, "nearest"),
        ("4:2:0", PixelFormat::Rgb8, "average"),
        ("4:4:4", PixelFormat::Rgb8, "nearest"),
        ("4:2:2", PixelFormat::Rgb8, "average"),
        ("4:2:0", PixelFormat::Gray8, "average"),
    ] {
        let img = gradient(101, 67, format);
        let params = parse_param_pairs(["quality=85", &format!("subsampling={sub}"), &format!("chroma={chroma}")]).unwrap();
        let (bytes, ours) = roundtrip("jpeg", &img, &params);
        let path = dir.join("t.jpg");
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new(&djpeg).arg("-pnm").arg(&path).output().unwrap();
        assert!(out.status.success(), "djpeg failed: {}", String::from_utf8_lossy(&out.stderr));
        let theirs = parse_ppm(&out.stdout);
        assert_eq!((theirs.width(), theirs.height(), theirs.format()), (101, 67, format));
        // Two correct decoders differ only by IDCT/upsampling rounding.
        let p = psnr(&ours, &theirs);
        assert!(p > 40.0, "{sub}: djpeg and zune-jpeg disagree: {p:.1} dB");
        assert!(psnr(&img, &theirs) > 30.0);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn we_decode_cjpeg_output() {
    let Some(cjpeg) = tool("cjpeg") else { return };
    let Some(djpeg) = tool("djpeg") else { return };
    let dir = std::env::temp_dir().join(format!("mpq-cjpeg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = gradient(90, 70, PixelFormat::Rgb8);
    let mut ppm = b"P6\n90 70\n255\n".to_vec();
    ppm.extend_from_slice(img.data());
    std::fs::write(dir.join("in.ppm"), &ppm).unwrap();
    for extra in [&[][..], &["-progressive"][..]] {
        let out = std::process::Command::new(&cjpeg).args(["-quality", "90"]).args(extra).arg(dir.join("in.ppm")).output().unwrap();
        assert!(out.status.success());
        let ours = load(&out.stdout).unwrap();
        std::fs::write(dir.join("c.jpg"), &out.stdout).unwrap();
        let theirs = parse_ppm(&std::process::Command::new(&djpeg).arg("-pnm").arg(dir.join("c.jpg")).output().unwrap().stdout);
        assert!(psnr(&ours, &theirs) > 40.0, "{extra:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

