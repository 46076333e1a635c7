//! AVIF: AV1 stills in a HEIF container. Encoded with `ravif` (rav1e, pure Rust, no threads);
//! decoded with `avif-parse` (container) and `rav1d` (the Rust port of dav1d, no asm, one
//! thread). rav1d 1.1 does not compile for wasm32-unknown-unknown, so the browser build
//! encodes AVIF but `decode_avif` returns an error there (see `decode_av1` and Cargo.toml).
//!
//! What this codec writes: 8-bit, 4:4:4, full-range YCbCr with BT.601 coefficients (ravif's
//! choice for `YCbCr`), plus a separate 8-bit monochrome AV1 item for alpha when the input has
//! real transparency. The decoder also reads 4:2:0, 4:2:2 and 4:0:0 files, limited range, and
//! BT.709 / BT.2020 / identity (GBR) matrices. 10- and 12-bit files are refused with a clear
//! error: rav1d is built with `bitdepth_8` only.

// The browser build has no AV1 decoder (see `decode_av1`), which leaves the frame types unused.
#![cfg_attr(all(target_arch = "wasm32", target_os = "unknown"), allow(dead_code))]

use mpq_core::{
    Codec, Error, Image, Media, Modality, ParamSpec, PixelFormat, Result, codec::ResolvedParams,
    limits,
};
use ravif::{AlphaColorMode, BitDepth, ColorModel, Img, RGB8, RGBA8};

pub struct Avif;

impl Codec for Avif {
    fn id(&self) -> &'static str {
        "avif"
    }
    fn name(&self) -> &'static str {
        "AVIF"
    }
    fn modality(&self) -> Modality {
        Modality::Image
    }
    fn lossless(&self) -> bool {
        false
    }
    fn extension(&self) -> &'static str {
        "avif"
    }
    fn mime(&self) -> &'static str {
        "image/avif"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::int(
                "quality",
                "Quality",
                1,
                100,
                50,
                "Higher keeps more detail and costs more bytes (mapped to the AV1 quantizer; also used for alpha).",
            ),
            ParamSpec::int(
                "speed",
                "Speed",
                1,
                10,
                8,
                "Encoder effort: 1 is slowest and smallest, 10 fastest. Decoding speed does not depend on it.",
            ),
        ]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let img = super::expect_image(self.id(), input)?;
        // The schema already limits both; clamping keeps ravif's range asserts unreachable.
        let quality = params.int("quality").clamp(1, 100) as f32;
        let speed = params.int("speed").clamp(1, 10) as u8;
        encode(img, quality, speed).map_err(|e| Error::encode(self.id(), e))
    }
    fn rate_param(&self) -> Option<&'static str> {
        Some("quality")
    }

    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        decode_avif(bytes).map(Media::Image)
    }
}

fn encode(img: &Image, quality: f32, speed: u8) -> std::result::Result<Vec<u8>, ravif::Error> {
    let encoder = ravif::Encoder::new()
        .with_quality(quality)
        .with_alpha_quality(quality)
        .with_speed(speed)
        // Our decoder is built for 8-bit AV1 only (ravif would pick 10-bit by default).
        .with_bit_depth(BitDepth::Eight)
        .with_internal_color_model(ColorModel::YCbCr)
        // One tile, no thread pool: ravif sizes its tiles from the thread count, so fixing it
        // keeps the output identical on every machine (and there are no threads in wasm).
        .with_num_threads(Some(1))
        // Keep the colour under transparent pixels as it was: the lab compares RGB with alpha
        // dropped, and "clean" mode would repaint invisible pixels.
        .with_alpha_color_mode(AlphaColorMode::UnassociatedDirty);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let d = img.data();
    let encoded = match img.format() {
        PixelFormat::Gray8 => {
            let px: Vec<RGB8> = d.iter().map(|&g| RGB8::new(g, g, g)).collect();
            encoder.encode_rgb(Img::new(&px[..], w, h))?
        }
        PixelFormat::Rgb8 => {
            let px: Vec<RGB8> = d
                .chunks_exact(3)
                .map(|p| RGB8::new(p[0], p[1], p[2]))
                .collect();
            encoder.encode_rgb(Img::new(&px[..], w, h))?
        }
        PixelFormat::Rgba8 if img.is_opaque() => {
            let px: Vec<RGB8> = d
                .chunks_exact(4)
                .map(|p| RGB8::new(p[0], p[1], p[2]))
                .collect();
            encoder.encode_rgb(Img::new(&px[..], w, h))?
        }
        PixelFormat::Rgba8 => {
            let px: Vec<RGBA8> = d
                .chunks_exact(4)
                .map(|p| RGBA8::new(p[0], p[1], p[2], p[3]))
                .collect();
            encoder.encode_rgba(Img::new(&px[..], w, h))?
        }
    };
    Ok(encoded.avif_file)
}

/// Reads an AVIF file's container and checks what it holds before anything is decoded: a
/// well-formed HEIF, an 8-bit AV1 image (and alpha) of a size within the limits. The browser
/// build, which has no AV1 decoder, checks a user's file with this before the browser's own
/// decoder gets it.
pub fn check_avif(bytes: &[u8]) -> Result<()> {
    parse_checked(bytes).map(|_| ())
}

fn parse_checked(bytes: &[u8]) -> Result<avif_parse::AvifData> {
    let bad = |e: &dyn std::fmt::Display| Error::decode("AVIF", e);
    limits::check_file_size(bytes.len())?;
    check_box_sizes(bytes).map_err(|e| bad(&e))?;
    let avif = guarded(|| avif_parse::read_avif(&mut &bytes[..])).map_err(|e| bad(&e))?;
    // Size and depth from the AV1 sequence headers, before the decoder allocates anything.
    let check = |item: &[u8], what: &str| -> Result<()> {
        let m = guarded(|| avif_parse::AV1Metadata::parse_av1_bitstream(item))
            .map_err(|e| bad(&format_args!("{what}: {e}")))?;
        limits::check_image_dims(m.max_frame_width.get(), m.max_frame_height.get())?;
        if m.bit_depth != 8 {
            return Err(bad(&format_args!(
                "{}-bit {what} is not supported (only 8-bit)",
                m.bit_depth
            )));
        }
        Ok(())
    };
    check(&avif.primary_item, "image")?;
    if let Some(a) = &avif.alpha_item {
        check(a, "alpha")?;
    }
    Ok(avif)
}

/// Every box size, and the counts avif-parse reserves memory for, checked against the bytes
/// that are really there. avif-parse sizes some buffers from claimed sizes and counts (the
/// `ftyp` brand list, the `iinf` item list, the `iloc` item list), so a 300-byte file claiming
/// a 3 GB box made it reserve 3 GB, and one claiming 2³² items 4 GB (both found by fuzzing,
/// `avif_check`). Natively such a reservation is virtual and dropped at once; in the page's
/// worker it would grow the wasm memory for good. So such claims are refused first.
fn check_box_sizes(bytes: &[u8]) -> std::result::Result<(), String> {
    for (kind, content) in boxes(bytes)? {
        if &kind == b"meta" {
            // A full box: version and flags, then boxes.
            let inner = content.get(4..).ok_or("the 'meta' box is cut off")?;
            for (kind, c) in boxes(inner)? {
                let version = c.first().copied().unwrap_or(0);
                let be16 = |at: usize| c.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]) as u64);
                let be32 = |at: usize| c.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64);
                // (count, the fewest bytes one entry takes) for the lists avif-parse allocates.
                let claim = match &kind {
                    // entry_count, then `infe` boxes of 12 bytes at least.
                    b"iinf" => if version == 0 { be16(4) } else { be32(4) }.map(|n| (n, 12)),
                    // item_count after two bytes of field sizes; an item takes 6 bytes at least.
                    b"iloc" => if version < 2 { be16(6) } else { be32(6) }.map(|n| (n, 6)),
                    _ => None,
                };
                if let Some((count, each)) = claim {
                    if count.saturating_mul(each) > c.len() as u64 {
                        let kind = String::from_utf8_lossy(&kind);
                        return Err(format!("the '{kind}' box claims {count} items in {} bytes", c.len()));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The boxes of `data` as (type, content), each box's size checked to fit in what is left.
fn boxes(data: &[u8]) -> std::result::Result<Vec<([u8; 4], &[u8])>, String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let rest = data.len() - at;
        if rest < 8 {
            // A few stray bytes after the last box hold no claim: left to avif-parse.
            break;
        }
        let kind: [u8; 4] = data[at + 4..at + 8].try_into().expect("4 bytes");
        let size32 = u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes")) as u64;
        let (size, header) = match size32 {
            // To the end.
            0 => (rest as u64, 8),
            // A 64-bit size follows the box type.
            1 if rest >= 16 => (u64::from_be_bytes(data[at + 8..at + 16].try_into().expect("8 bytes")), 16),
            1 => return Err("a box's 64-bit size is cut off".into()),
            n => (n, 8),
        };
        if size < header || size > rest as u64 {
            let kind = String::from_utf8_lossy(&kind);
            return Err(format!("the '{kind}' box claims {size} bytes, but {rest} are left in the file"));
        }
        out.push((kind, &data[at + header as usize..at + size as usize]));
        at += size as usize;
    }
    Ok(out)
}

/// Decodes an 8-bit AVIF still to RGB8, or RGBA8 when it has an alpha item.
pub fn decode_avif(bytes: &[u8]) -> Result<Image> {
    let bad = |e: &dyn std::fmt::Display| Error::decode("AVIF", e);
    let avif = parse_checked(bytes)?;
    let alpha_data = avif.alpha_item.as_deref();

    let color = decode_av1(&avif.primary_item).map_err(|e| bad(&e))?;
    limits::check_image_dims(color.width, color.height)?;
    let alpha = match alpha_data {
        Some(a) => {
            let frame = decode_av1(a).map_err(|e| bad(&format_args!("alpha: {e}")))?;
            if (frame.width, frame.height) != (color.width, color.height) {
                return Err(bad(&format_args!(
                    "alpha is {}×{} but the image is {}×{}",
                    frame.width, frame.height, color.width, color.height
                )));
            }
            Some(frame)
        }
        None => None,
    };

    let (w, h) = (color.width, color.height);
    let channels = if alpha.is_some() { 4 } else { 3 };
    let mut out = vec![0u8; w as usize * h as usize * channels];
    yuv_to_rgb(&color, &mut out, channels);
    if let Some(a) = &alpha {
        let (offset, scale) = range_of(a.full_range).luma;
        for (px, &y) in out.chunks_exact_mut(4).zip(&a.y) {
            px[3] = clamp_u8((f32::from(y) - offset) * scale);
        }
        if avif.premultiplied_alpha {
            for px in out.chunks_exact_mut(4) {
                let a = u16::from(px[3]);
                for c in &mut px[..3] {
                    // At most 255 * 255 + 127: fits u16. Fully transparent pixels become black.
                    *c = (u16::from(*c) * 255 + a / 2)
                        .checked_div(a)
                        .map_or(0, |v| v.min(255) as u8);
                }
            }
        }
    }
    let format = if alpha.is_some() {
        PixelFormat::Rgba8
    } else {
        PixelFormat::Rgb8
    };
    Image::new(w, h, format, out).map_err(|e| bad(&e))
}

/// Runs an avif-parse call. avif-parse reports malformed input as errors, except that a few
/// of its consistency checks are `debug_assert!`s, which panic in builds with debug assertions
/// (tests, the dev profile) where release builds return the error. Those panics are caught
/// here so that every build answers bad input with an error. avif-parse is plain Rust working
/// on our slice and nothing of it outlives the call, so unwinding leaves no broken state.
fn guarded<T>(parse: impl FnOnce() -> avif_parse::Result<T>) -> std::result::Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("malformed data (sizes do not add up)".into()),
    }
}

/// How a decoded frame's samples are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Monochrome: no chroma planes.
    I400,
    I420,
    I422,
    I444,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matrix {
    Bt601,
    Bt709,
    Bt2020,
    /// GBR stored as Y=G, U=B, V=R.
    Identity,
}

/// One decoded 8-bit AV1 frame, planes copied out of rav1d's buffers without padding.
struct Frame {
    width: u32,
    height: u32,
    layout: Layout,
    full_range: bool,
    matrix: Matrix,
    y: Vec<u8>,
    /// Chroma planes, `chroma_width` × `chroma_height` each (empty for monochrome).
    u: Vec<u8>,
    v: Vec<u8>,
    chroma_width: usize,
}

/// Offset and scale that map a stored sample to 0..=255 (luma) or ±127.5 (chroma).
struct Range {
    luma: (f32, f32),
    chroma: f32,
}

fn range_of(full: bool) -> Range {
    if full {
        Range {
            luma: (0.0, 1.0),
            chroma: 1.0,
        }
    } else {
        Range {
            luma: (16.0, 255.0 / 219.0),
            chroma: 255.0 / 224.0,
        }
    }
}

fn clamp_u8(x: f32) -> u8 {
    // `as` saturates, and maps NaN (impossible here) to 0.
    (x + 0.5).clamp(0.0, 255.0) as u8
}

/// YCbCr → RGB for one frame into `out` (`channels` = 3 or 4; alpha left untouched).
/// Chroma is upsampled by nearest neighbour (each chroma sample covers its 2×1 or 2×2 block),
/// which ignores the chroma siting; AVIFs from this codec are 4:4:4 so it only affects
/// foreign files.
fn yuv_to_rgb(f: &Frame, out: &mut [u8], channels: usize) {
    let w = f.width as usize;
    let range = range_of(f.full_range);
    let (y_off, y_scale) = range.luma;
    let (ss_x, ss_y) = match f.layout {
        Layout::I400 | Layout::I444 => (0, 0),
        Layout::I422 => (1, 0),
        Layout::I420 => (1, 1),
    };
    let (kr, kb) = match f.matrix {
        Matrix::Bt709 => (0.2126f32, 0.0722f32),
        Matrix::Bt2020 => (0.2627, 0.0593),
        Matrix::Bt601 | Matrix::Identity => (0.299, 0.114),
    };
    let kg = 1.0 - kr - kb;
    let (cr_r, cb_b) = (2.0 * (1.0 - kr), 2.0 * (1.0 - kb));
    let (cb_g, cr_g) = (2.0 * kb * (1.0 - kb) / kg, 2.0 * kr * (1.0 - kr) / kg);

    for (row, (out_row, y_row)) in out
        .chunks_exact_mut(w * channels)
        .zip(f.y.chunks_exact(w))
        .enumerate()
    {
        let luma = |y: u8| (f32::from(y) - y_off) * y_scale;
        if f.layout == Layout::I400 {
            for (px, &y) in out_row.chunks_exact_mut(channels).zip(y_row) {
                let g = clamp_u8(luma(y));
                px[..3].copy_from_slice(&[g, g, g]);
            }
            continue;
        }
        let c_start = (row >> ss_y) * f.chroma_width;
        let u_row = &f.u[c_start..c_start + f.chroma_width];
        let v_row = &f.v[c_start..c_start + f.chroma_width];
        for (x, (px, &y)) in out_row.chunks_exact_mut(channels).zip(y_row).enumerate() {
            let (u, v) = (u_row[x >> ss_x], v_row[x >> ss_x]);
            if f.matrix == Matrix::Identity {
                // Every plane carries a full colour channel, so each uses the luma range.
                px[..3].copy_from_slice(&[clamp_u8(luma(v)), clamp_u8(luma(y)), clamp_u8(luma(u))]);
                continue;
            }
            let yy = luma(y);
            let cb = (f32::from(u) - 128.0) * range.chroma;
            let cr = (f32::from(v) - 128.0) * range.chroma;
            px[0] = clamp_u8(yy + cr_r * cr);
            px[1] = clamp_u8(yy - cb_g * cb - cr_g * cr);
            px[2] = clamp_u8(yy + cb_b * cb);
        }
    }
}

/// Decodes one AV1 still (a sequence of OBUs, as stored in an AVIF item) with rav1d and
/// copies its planes out.
///
/// This is the only `unsafe` in the codec. rav1d's public API is the C API of dav1d,
/// transliterated: `extern "C"` functions taking raw pointers, with manual reference counting
/// (`dav1d_picture_unref`, `dav1d_data_unref`, `dav1d_close`). The safe Rust API it has
/// internally is not exported. Each raw resource is held by a small guard below whose `Drop`
/// releases it, so every return path (and an unwinding panic) frees it; the plane pointers
/// are only read while the picture guard is alive, within the sizes rav1d reports.
///
/// rav1d runs with one thread and a frame delay of 1: it then never spawns a thread
/// (workers are created only when `n_threads > 1`), so this also works where threads don't.
/// Note that rav1d aborts (in debug builds) when an argument fails its input validation,
/// e.g. empty data, so those cases are rejected here first.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn decode_av1(obus: &[u8]) -> std::result::Result<Frame, String> {
    use rav1d::include::dav1d::data::Dav1dData;
    use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
    use rav1d::include::dav1d::headers::{
        DAV1D_MC_BT709, DAV1D_MC_BT2020_NCL, DAV1D_MC_IDENTITY, DAV1D_PIXEL_LAYOUT_I400,
        DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422, DAV1D_PIXEL_LAYOUT_I444,
    };
    use rav1d::include::dav1d::picture::Dav1dPicture;
    use std::mem::MaybeUninit;
    use std::ptr::NonNull;

    use rav1d::src::lib::{
        dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings,
        dav1d_get_picture, dav1d_open, dav1d_picture_unref, dav1d_send_data,
    };

    struct Context(Option<Dav1dContext>);
    impl Drop for Context {
        fn drop(&mut self) {
            // SAFETY: `self.0` is `None` or a context from `dav1d_open` not yet closed;
            // `dav1d_close` takes it out (leaving `None`), so it is closed exactly once.
            unsafe { dav1d_close(Some(NonNull::from(&mut self.0))) }
        }
    }
    struct Data(Dav1dData);
    impl Drop for Data {
        fn drop(&mut self) {
            // SAFETY: `self.0` is empty or from `dav1d_data_create`; unref of empty is a no-op.
            unsafe { dav1d_data_unref(Some(NonNull::from(&mut self.0))) }
        }
    }
    struct Picture(Dav1dPicture);
    impl Drop for Picture {
        fn drop(&mut self) {
            // SAFETY: `self.0` is empty or written by `dav1d_get_picture`, and unmodified.
            unsafe { dav1d_picture_unref(Some(NonNull::from(&mut self.0))) }
        }
    }

    if obus.is_empty() {
        return Err("the image item is empty".into());
    }

    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: `dav1d_default_settings` fully initialises the struct it is pointed at.
    let mut settings = unsafe {
        dav1d_default_settings(NonNull::from(&mut settings).cast());
        settings.assume_init()
    };
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    // A second guard on size, for frame headers larger than the sequence header said.
    settings.frame_size_limit = limits::MAX_IMAGE_PIXELS as u32;
    // SAFETY: `Dav1dLogger` is `#[repr(C)] { cookie: Option<NonNull>, callback: Option<fn> }`,
    // for which all zeroes is `{ None, None }`: dav1d's documented "no logger". Errors reach
    // the caller as results; without this rav1d would also print them to stderr.
    unsafe { std::ptr::write_bytes(&raw mut settings.logger, 0, 1) };

    let mut ctx = Context(None);
    // SAFETY: both pointers are valid for the duration of the call.
    let res = unsafe {
        dav1d_open(
            Some(NonNull::from(&mut ctx.0)),
            Some(NonNull::from(&mut settings)),
        )
    };
    let Some(c) = ctx.0 else {
        return Err(format!("could not start the AV1 decoder (error {})", res.0));
    };
    if res.0 != 0 {
        return Err(format!("could not start the AV1 decoder (error {})", res.0));
    }

    let mut data = Data(Dav1dData::default());
    // SAFETY: `data.0` is valid to write; on success the returned pointer is the start of a
    // fresh allocation of `obus.len()` bytes owned by `data.0`, which we fill completely.
    unsafe {
        let dst = dav1d_data_create(Some(NonNull::from(&mut data.0)), obus.len());
        if dst.is_null() {
            return Err("out of memory".into());
        }
        std::ptr::copy_nonoverlapping(obus.as_ptr(), dst, obus.len());
    }

    // One send, one get. `send_data` either takes all the data (0), leaves it because a
    // picture is already waiting (EAGAIN), or fails; in every case `get_picture` then returns
    // the picture if there is one (it first parses whatever data the decoder still holds).
    // Nothing is sent twice, so this cannot loop.
    // SAFETY: `c` is open, `data.0` is a valid non-empty `Dav1dData`.
    let sent = unsafe { dav1d_send_data(Some(c), Some(NonNull::from(&mut data.0))) };
    let mut pic = Picture(Dav1dPicture::default());
    // SAFETY: `c` is open, `pic.0` is valid to write.
    let got = unsafe { dav1d_get_picture(Some(c), Some(NonNull::from(&mut pic.0))) };
    if got.0 != 0 {
        return Err(if sent.0 != 0 && data.0.sz != 0 {
            format!("the AV1 data is invalid (rav1d error {})", sent.0)
        } else {
            format!(
                "the AV1 data holds no decodable picture (rav1d error {})",
                got.0
            )
        });
    }

    let p = &pic.0;
    if p.p.bpc != 8 {
        return Err(format!("{}-bit AV1 is not supported (only 8-bit)", p.p.bpc));
    }
    let (width, height) = (p.p.w, p.p.h);
    if width <= 0 || height <= 0 {
        return Err(format!("picture has no pixels ({width}×{height})"));
    }
    let (width, height) = (width as u32, height as u32);
    limits::check_image_dims(width, height).map_err(|e| e.to_string())?;
    let layout = match p.p.layout {
        DAV1D_PIXEL_LAYOUT_I400 => Layout::I400,
        DAV1D_PIXEL_LAYOUT_I420 => Layout::I420,
        DAV1D_PIXEL_LAYOUT_I422 => Layout::I422,
        DAV1D_PIXEL_LAYOUT_I444 => Layout::I444,
        other => return Err(format!("unknown pixel layout {other}")),
    };
    let Some(seq_hdr) = p.seq_hdr else {
        return Err("picture has no sequence header".into());
    };
    // SAFETY: `seq_hdr` points into the sequence header that `pic` holds a reference to.
    let seq_hdr = unsafe { seq_hdr.as_ref() };
    let full_range = seq_hdr.color_range != 0;
    // The AV1 header's colour description (ravif writes the same values into the `colr` box,
    // which avif-parse does not expose). Unspecified and the 601 variants mean BT.601.
    let matrix = match seq_hdr.mtrx {
        DAV1D_MC_BT709 => Matrix::Bt709,
        DAV1D_MC_BT2020_NCL => Matrix::Bt2020,
        DAV1D_MC_IDENTITY => Matrix::Identity,
        _ => Matrix::Bt601,
    };

    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = match layout {
        Layout::I400 => (0, 0),
        Layout::I420 => (w.div_ceil(2), h.div_ceil(2)),
        Layout::I422 => (w.div_ceil(2), h),
        Layout::I444 => (w, h),
    };
    // Copies a `pw`×`ph` plane out of rav1d's padded buffer.
    let copy_plane =
        |i: usize, stride: isize, pw: usize, ph: usize| -> std::result::Result<Vec<u8>, String> {
            let Some(ptr) = p.data[i] else {
                return Err(format!("picture plane {i} is missing"));
            };
            if stride < pw as isize {
                return Err(format!(
                    "picture plane {i} has an unexpected stride {stride}"
                ));
            }
            let stride = stride as usize;
            let mut plane = Vec::with_capacity(pw * ph);
            for row in 0..ph {
                // SAFETY: rav1d allocated this plane with `ph` rows of `stride` ≥ `pw` bytes
                // (8-bit samples), alive while `pic` is; we read `pw` bytes of each row.
                let src = unsafe {
                    std::slice::from_raw_parts(ptr.as_ptr().cast::<u8>().add(row * stride), pw)
                };
                plane.extend_from_slice(src);
            }
            Ok(plane)
        };
    let y = copy_plane(0, p.stride[0], w, h)?;
    let (u, v) = if layout == Layout::I400 {
        (Vec::new(), Vec::new())
    } else {
        (
            copy_plane(1, p.stride[1], cw, ch)?,
            copy_plane(2, p.stride[1], cw, ch)?,
        )
    };
    Ok(Frame {
        width,
        height,
        layout,
        full_range,
        matrix,
        y,
        u,
        v,
        chroma_width: cw,
    })
}

/// rav1d 1.1 does not compile for wasm32-unknown-unknown (see Cargo.toml), so the browser
/// build can encode AVIF but not decode it.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn decode_av1(_obus: &[u8]) -> std::result::Result<Frame, String> {
    Err("AV1 decoding is not available in the browser build yet".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
        let mut b = ((content.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(content);
        b
    }

    #[test]
    fn claims_beyond_the_file_are_refused_before_parsing() {
        let ftyp = boxed(b"ftyp", b"avif\0\0\0\0mif1");
        // iinf version 1 claiming 2^32 - 1 items in 8 bytes.
        let iinf = boxed(b"iinf", &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        let meta = boxed(b"meta", &[[0u8; 4].as_slice(), &iinf].concat());
        let file = [ftyp.clone(), meta].concat();
        let err = check_avif(&file).unwrap_err().to_string();
        assert!(err.contains("the 'iinf' box claims 4294967295 items in 8 bytes"), "{err}");
        // A box claiming more than the file has.
        let mut big = ftyp.clone();
        big[..4].copy_from_slice(&3_000_000_000u32.to_be_bytes());
        assert!(check_avif(&big).unwrap_err().to_string().contains("claims 3000000000 bytes"));
        // A 64-bit size that is cut off.
        let mut cut = vec![0, 0, 0, 1];
        cut.extend_from_slice(b"mdat\0\0");
        assert!(check_avif(&[ftyp, cut].concat()).unwrap_err().to_string().contains("64-bit size is cut off"));
    }
    use mpq_core::{ParamValue, Params};

    fn params(quality: i64, speed: i64) -> Params {
        let mut p = Params::new();
        p.insert("quality".into(), ParamValue::Int(quality));
        p.insert("speed".into(), ParamValue::Int(speed));
        p
    }

    fn enc(img: &Image, quality: i64, speed: i64) -> Vec<u8> {
        Avif.encode(&Media::Image(img.clone()), &params(quality, speed))
            .unwrap()
    }

    /// A smooth RGB gradient: red across, green down, blue diagonally.
    fn gradient(w: u32, h: u32) -> Image {
        let mut d = Vec::new();
        for y in 0..h {
            for x in 0..w {
                d.push((x * 255 / (w - 1)) as u8);
                d.push((y * 255 / (h - 1)) as u8);
                d.push(((x + y) * 255 / (w + h - 2)) as u8);
            }
        }
        Image::new(w, h, PixelFormat::Rgb8, d).unwrap()
    }

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        assert_eq!(a.len(), b.len());
        let se: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum();
        let mse = se / a.len() as f64;
        if mse == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (255.0f64 * 255.0 / mse).log10()
        }
    }

    /// A tiny deterministic PRNG (xorshift64*), so the corruption tests are reproducible.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn schema() {
        assert_eq!(Avif.id(), "avif");
        assert_eq!(Avif.name(), "AVIF");
        assert!(!Avif.lossless());
        assert_eq!(Avif.extension(), "avif");
        assert_eq!(Avif.mime(), "image/avif");
        let p = Avif.params();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "quality");
        assert_eq!(p[0].default, ParamValue::Int(50));
        assert_eq!(p[1].name, "speed");
        assert_eq!(p[1].default, ParamValue::Int(8));
        assert!(
            Avif.encode(&Media::Image(gradient(8, 8)), &params(0, 8))
                .is_err()
        );
        assert!(
            Avif.encode(&Media::Image(gradient(8, 8)), &params(50, 11))
                .is_err()
        );
    }

    #[test]
    fn roundtrip_gradients() {
        for (w, h) in [(64, 48), (33, 17)] {
            let img = gradient(w, h);
            let mut sizes = Vec::new();
            for q in [20, 50, 80, 95] {
                let bytes = enc(&img, q, 8);
                assert_eq!(
                    super::super::sniff(&bytes),
                    Some(super::super::FileFormat::Avif)
                );
                let out = decode_avif(&bytes).unwrap();
                assert_eq!(
                    (out.width(), out.height(), out.format()),
                    (w, h, PixelFormat::Rgb8)
                );
                let p = psnr(img.data(), out.data());
                eprintln!("{w}×{h} q{q}: {} bytes, PSNR {p:.1} dB", bytes.len());
                if q >= 80 {
                    assert!(p > 30.0, "{w}×{h} q{q}: PSNR {p:.1}");
                } else {
                    assert!(p > 20.0, "{w}×{h} q{q}: PSNR {p:.1}");
                }
                sizes.push(bytes.len());
            }
            // Higher quality costs more bytes. On the tiny 33×17 image the container overhead
            // dominates and ravif switches partition settings above quality ~80, so neighbouring
            // qualities may swap by a byte or two there; only the ends are compared for it.
            if w == 64 {
                assert!(
                    sizes.windows(2).all(|s| s[0] < s[1]),
                    "{w}×{h}: sizes {sizes:?}"
                );
            }
            assert!(
                sizes[0] < sizes[3] && sizes[1] < sizes[3],
                "{w}×{h}: sizes {sizes:?}"
            );
        }
    }

    #[test]
    fn speeds_all_work_and_encoding_is_deterministic() {
        let img = gradient(33, 17);
        for speed in [1, 5, 10] {
            let a = enc(&img, 60, speed);
            let b = enc(&img, 60, speed);
            assert_eq!(a, b, "speed {speed}");
            let out = decode_avif(&a).unwrap();
            assert!(psnr(img.data(), out.data()) > 25.0);
        }
    }

    #[test]
    fn alpha_roundtrips() {
        let (w, h) = (40u32, 24u32);
        let mut d = Vec::new();
        for y in 0..h {
            for x in 0..w {
                d.extend_from_slice(&[
                    (x * 6) as u8,
                    (y * 10) as u8,
                    128,
                    (x * 255 / (w - 1)) as u8,
                ]);
            }
        }
        let img = Image::new(w, h, PixelFormat::Rgba8, d).unwrap();
        let bytes = enc(&img, 90, 8);
        let out = decode_avif(&bytes).unwrap();
        assert_eq!(
            (out.width(), out.height(), out.format()),
            (w, h, PixelFormat::Rgba8)
        );
        let alpha = |i: &Image| i.data().chunks_exact(4).map(|p| p[3]).collect::<Vec<_>>();
        let pa = psnr(&alpha(&img), &alpha(&out));
        let pc = psnr(img.to_rgb8().data(), out.to_rgb8().data());
        eprintln!("alpha PSNR {pa:.1} dB, colour {pc:.1} dB");
        assert!(pa > 30.0, "alpha PSNR {pa:.1}");
        assert!(pc > 30.0, "colour PSNR {pc:.1}");

        // Opaque RGBA carries no alpha item and decodes as RGB.
        let opaque = gradient(16, 16).to_rgba8();
        let out = decode_avif(&enc(&opaque, 80, 8)).unwrap();
        assert_eq!(out.format(), PixelFormat::Rgb8);
        assert!(psnr(opaque.to_rgb8().data(), out.data()) > 30.0);
    }

    #[test]
    fn gray_input() {
        let (w, h) = (30u32, 20u32);
        let d: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x * 4 + y * 3) as u8))
            .collect();
        let img = Image::new(w, h, PixelFormat::Gray8, d).unwrap();
        let out = decode_avif(&enc(&img, 80, 8)).unwrap();
        assert_eq!(
            (out.width(), out.height(), out.format()),
            (w, h, PixelFormat::Rgb8)
        );
        let p = psnr(img.to_rgb8().data(), out.data());
        assert!(p > 30.0, "PSNR {p:.1}");
        // Gray stays gray: no channel drifts far from the others.
        assert!(
            out.data()
                .chunks_exact(3)
                .all(|c| c[0].abs_diff(c[1]) <= 3 && c[1].abs_diff(c[2]) <= 3)
        );
    }

    #[test]
    fn rejects_other_media() {
        let text = Media::Text(mpq_core::Text {
            bytes: b"hi".to_vec(),
        });
        assert!(Avif.encode(&text, &Params::new()).is_err());
    }

    #[test]
    fn ten_bit_files_are_refused_cleanly() {
        let img = gradient(16, 16);
        let px: Vec<RGB8> = img
            .data()
            .chunks_exact(3)
            .map(|p| RGB8::new(p[0], p[1], p[2]))
            .collect();
        let bytes = ravif::Encoder::new()
            .with_bit_depth(BitDepth::Ten)
            .with_num_threads(Some(1))
            .with_speed(10)
            .encode_rgb(Img::new(&px[..], 16, 16))
            .unwrap()
            .avif_file;
        let err = decode_avif(&bytes).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        assert!(err.to_string().contains("10-bit"), "{err}");
    }

    #[test]
    fn garbage_is_an_error() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        assert!(decode_avif(&[]).is_err());
        assert!(decode_avif(b"not an avif").is_err());
        let mut fake = b"\0\0\0\x18ftypavif\0\0\0\0mif1miaf".to_vec();
        assert!(decode_avif(&fake).is_err());
        fake.extend((0..500).map(|_| rng.next() as u8));
        assert!(decode_avif(&fake).is_err());
        for len in [1, 7, 64, 1000] {
            let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            assert!(decode_avif(&junk).is_err());
        }
    }

    #[test]
    fn truncated_files_are_errors() {
        let bytes = enc(&gradient(33, 17), 50, 8);
        for len in 0..bytes.len() {
            assert!(
                decode_avif(&bytes[..len]).is_err(),
                "prefix of {len}/{} bytes decoded",
                bytes.len()
            );
        }
    }

    /// Flips bits in `n` copies of an RGB and an RGBA file, in the container boxes before the
    /// AV1 payload (`payload == false`) or in the AV1 payload itself, and decodes each copy:
    /// every one must give an image or an error, never a panic or a hang.
    fn decode_corrupted(payload: bool, n: usize) {
        let img = gradient(33, 17);
        let mut rgba = img.to_rgba8().into_data();
        rgba.chunks_exact_mut(4)
            .enumerate()
            .for_each(|(i, p)| p[3] = (i * 7) as u8);
        let rgba = Image::new(33, 17, PixelFormat::Rgba8, rgba).unwrap();
        let mut rng = Rng(if payload {
            0xdead_beef_cafe_f00d
        } else {
            0x0123_4567_89ab_cdef
        });
        let (mut ok, mut err) = (0, 0);
        for base in [enc(&img, 50, 8), enc(&rgba, 50, 8)] {
            // ravif writes `mdat` last; its payload is the two AV1 items.
            let payload_start = base.windows(4).position(|w| w == b"mdat").unwrap() + 4;
            for _ in 0..n {
                let mut b = base.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = if payload {
                        payload_start + rng.below(b.len() - payload_start)
                    } else {
                        rng.below(payload_start)
                    };
                    b[at] ^= 1 << rng.below(8);
                    if rng.below(4) == 0 {
                        b[at] = rng.next() as u8;
                    }
                }
                match decode_avif(&b) {
                    Ok(_) => ok += 1,
                    Err(Error::Decode { .. } | Error::TooLarge(_) | Error::Invalid(_)) => err += 1,
                    Err(e) => panic!("unexpected error kind: {e}"),
                }
            }
        }
        eprintln!("{ok} corrupted files still decoded, {err} were rejected");
    }

    #[test]
    fn corrupted_containers_do_not_panic() {
        decode_corrupted(false, 500);
    }

    /// rav1d 1.1.0 aborts the process on AV1 data that fails to decode partway through a frame
    /// when it runs with one frame context, as here (memorysafety/rav1d#1497, fixed by the
    /// open PRs #1496/#1503). Run with `--ignored` against a rav1d that has the fix.
    #[test]
    #[ignore = "rav1d 1.1.0 aborts on some corrupt AV1 data (memorysafety/rav1d#1497)"]
    fn corrupted_av1_data_does_not_abort() {
        decode_corrupted(true, 1000);
    }

    /// Timing for the report: `cargo test -p mpq-codecs --release avif::tests::timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn timing() {
        let (w, h) = (512u32, 512u32);
        let d: Vec<u8> = (0..h)
            .flat_map(|y| {
                (0..w).flat_map(move |x| {
                    let t = ((x as f32 * 0.05).sin() * (y as f32 * 0.07).cos() * 60.0) as i32;
                    [
                        (x / 2) as i32 + t,
                        (y / 2) as i32 - t,
                        ((x + y) / 4) as i32 + t / 2,
                    ]
                    .map(|v| v.clamp(0, 255) as u8)
                })
            })
            .collect();
        let img = Image::new(w, h, PixelFormat::Rgb8, d).unwrap();
        for (q, s) in [(50, 8), (80, 8), (50, 4)] {
            let t = std::time::Instant::now();
            let bytes = enc(&img, q, s);
            let te = t.elapsed();
            let t = std::time::Instant::now();
            let out = decode_avif(&bytes).unwrap();
            let td = t.elapsed();
            eprintln!(
                "512×512 q{q} s{s}: {} bytes, encode {te:?}, decode {td:?}, PSNR {:.1}",
                bytes.len(),
                psnr(img.data(), out.data())
            );
        }
    }
}
