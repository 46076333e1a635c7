//! The browser's own image encoders (canvas `convertToBlob`), used in the worker through
//! `OffscreenCanvas`. They are not [`mpq_core::Codec`]s: they exist only in a browser and are
//! asynchronous. Support is detected from the MIME type the browser actually returns (a
//! browser that cannot write WebP silently writes PNG instead).

use js_sys::{Array, Uint8Array};
use mpq_core::{Error, Image, ParamSpec, PixelFormat, Result};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, ImageBitmap, ImageBitmapOptions, ImageEncodeOptions, OffscreenCanvas,
    OffscreenCanvasRenderingContext2d,
};

use crate::js::error_text;

pub struct BrowserCodec {
    pub id: &'static str,
    pub name: &'static str,
    pub mime: &'static str,
    pub extension: &'static str,
}

pub const BROWSER_CODECS: [BrowserCodec; 2] = [
    BrowserCodec { id: "browser-jpeg", name: "JPEG (browser-native)", mime: "image/jpeg", extension: "jpg" },
    BrowserCodec { id: "browser-webp", name: "WebP (browser-native)", mime: "image/webp", extension: "webp" },
];

pub fn find(id: &str) -> Option<&'static BrowserCodec> {
    BROWSER_CODECS.iter().find(|c| c.id == id)
}

impl BrowserCodec {
    pub fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::int(
            "quality",
            "Quality",
            0,
            100,
            75,
            "Passed to canvas.convertToBlob as quality/100; the browser's encoder decides the rest.",
        )]
    }

    pub async fn encode(&self, img: &Image, quality: i64) -> Result<Vec<u8>> {
        let fail = |e: JsValue| Error::encode(self.id, error_text(&e));
        let canvas = canvas_with(img).map_err(fail)?;
        let opts = ImageEncodeOptions::new();
        opts.set_type(self.mime);
        opts.set_quality(quality as f64 / 100.0);
        let promise = canvas.convert_to_blob_with_options(&opts).map_err(fail)?;
        let blob: Blob = JsFuture::from(promise).await.map_err(fail)?.unchecked_into();
        if blob.type_() != self.mime {
            return Err(Error::unsupported(
                self.id,
                format!("this browser cannot encode {} (it produced {})", self.mime, blob.type_()),
            ));
        }
        let buf = JsFuture::from(blob.array_buffer()).await.map_err(fail)?;
        Ok(Uint8Array::new(&buf).to_vec())
    }

    /// Decodes with mpqlab's own decoders (zune-jpeg, image-webp: the CLI's), not the
    /// browser's: the encoder is what this codec compares, and the browser's asynchronous
    /// decoder costs ~1.5 ms per call even for a 28×28 item, which dominated sweeps.
    pub fn decode(&self, bytes: &[u8]) -> Result<Image> {
        mpq_codecs::image::load(bytes).map(|i| i.to_rgb8())
    }

    /// Encodes many images at once: every `convertToBlob` is started before any is awaited,
    /// so the browser's encoder threads overlap them. For the tiny images of a sweep the
    /// asynchronous round trip, not the encoding, is most of the cost of one call.
    pub async fn encode_many(&self, imgs: &[Image], quality: i64) -> Result<Vec<Vec<u8>>> {
        let fail = |e: JsValue| Error::encode(self.id, error_text(&e));
        let opts = ImageEncodeOptions::new();
        opts.set_type(self.mime);
        opts.set_quality(quality as f64 / 100.0);
        // One canvas for the whole batch: `convertToBlob` copies the canvas when it is called,
        // so the next image can be drawn at once (creating a canvas per item costs more).
        let promises = Array::new();
        let mut canvas: Option<(OffscreenCanvas, OffscreenCanvasRenderingContext2d)> = None;
        for img in imgs {
            let (w, h) = (img.width(), img.height());
            if canvas.as_ref().is_none_or(|(c, _)| c.width() != w || c.height() != h) {
                let c = OffscreenCanvas::new(w, h).map_err(fail)?;
                let ctx = context(&c).map_err(fail)?;
                canvas = Some((c, ctx));
            }
            let (c, ctx) = canvas.as_ref().expect("set above");
            put_image(ctx, img).map_err(fail)?;
            let blob = c.convert_to_blob_with_options(&opts).map_err(fail)?;
            promises.push(&blob);
        }
        let blobs: Array = JsFuture::from(js_sys::Promise::all(&promises)).await.map_err(fail)?.unchecked_into();
        let buffers = Array::new();
        for blob in blobs.iter() {
            let blob: Blob = blob.unchecked_into();
            if blob.type_() != self.mime {
                return Err(Error::unsupported(
                    self.id,
                    format!("this browser cannot encode {} (it produced {})", self.mime, blob.type_()),
                ));
            }
            buffers.push(&blob.array_buffer());
        }
        let buffers: Array = JsFuture::from(js_sys::Promise::all(&buffers)).await.map_err(fail)?.unchecked_into();
        Ok(buffers.iter().map(|b| Uint8Array::new(&b).to_vec()).collect())
    }
}

/// Decodes many files at once with the browser (all `createImageBitmap` calls started before
/// any is awaited; see [`BrowserCodec::encode_many`]), as RGBA.
pub async fn decode_many_with_browser(files: &[Vec<u8>], mime: &str) -> Result<Vec<Image>> {
    let fail = |e: JsValue| Error::decode(mime, error_text(&e));
    let opts = ImageBitmapOptions::new();
    opts.set_premultiply_alpha(web_sys::PremultiplyAlpha::None);
    opts.set_color_space_conversion(web_sys::ColorSpaceConversion::None);
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let promises = Array::new();
    for bytes in files {
        let parts = Array::of1(&Uint8Array::from(bytes.as_slice()));
        let bag = BlobPropertyBag::new();
        bag.set_type(mime);
        let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &bag).map_err(fail)?;
        let bitmap = scope.create_image_bitmap_with_blob_and_image_bitmap_options(&blob, &opts).map_err(fail)?;
        promises.push(&bitmap);
    }
    let bitmaps: Array = JsFuture::from(js_sys::Promise::all(&promises))
        .await
        .map_err(|_| Error::decode(mime, "the browser could not decode this file"))?
        .unchecked_into();
    // One canvas for all of them (a sweep's items share one size).
    let mut canvas: Option<(OffscreenCanvas, OffscreenCanvasRenderingContext2d)> = None;
    let mut out = Vec::with_capacity(files.len());
    for bitmap in bitmaps.iter() {
        let bitmap: ImageBitmap = bitmap.unchecked_into();
        let (w, h) = (bitmap.width(), bitmap.height());
        mpq_core::limits::check_image_dims(w, h)?;
        if canvas.as_ref().is_none_or(|(c, _)| c.width() != w || c.height() != h) {
            let c = OffscreenCanvas::new(w, h).map_err(fail)?;
            let ctx = context(&c).map_err(fail)?;
            canvas = Some((c, ctx));
        }
        let (_, ctx) = canvas.as_ref().expect("set above");
        ctx.clear_rect(0.0, 0.0, w as f64, h as f64);
        ctx.draw_image_with_image_bitmap(&bitmap, 0.0, 0.0).map_err(fail)?;
        bitmap.close();
        let data = ctx.get_image_data(0.0, 0.0, w as f64, h as f64).map_err(fail)?;
        out.push(Image::new(w, h, PixelFormat::Rgba8, data.data().0)?);
    }
    Ok(out)
}

/// Decodes any image the browser understands (used for browser codecs, and as a fallback for
/// dropped files in formats we have no decoder for, such as GIF or BMP). Colour management
/// and premultiplication are turned off so pixel values are the file's own.
pub async fn decode_with_browser(bytes: &[u8], mime: &str) -> Result<Image> {
    let fail = |e: JsValue| Error::decode(mime, error_text(&e));
    let parts = Array::of1(&Uint8Array::from(bytes));
    let bag = BlobPropertyBag::new();
    bag.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &bag).map_err(fail)?;
    let opts = ImageBitmapOptions::new();
    opts.set_premultiply_alpha(web_sys::PremultiplyAlpha::None);
    opts.set_color_space_conversion(web_sys::ColorSpaceConversion::None);
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let promise = scope.create_image_bitmap_with_blob_and_image_bitmap_options(&blob, &opts).map_err(fail)?;
    let bitmap: ImageBitmap = JsFuture::from(promise)
        .await
        .map_err(|_| Error::decode(mime, "the browser could not decode this file"))?
        .unchecked_into();
    let (w, h) = (bitmap.width(), bitmap.height());
    mpq_core::limits::check_image_dims(w, h)?;
    let canvas = OffscreenCanvas::new(w, h).map_err(fail)?;
    let ctx = context(&canvas).map_err(fail)?;
    ctx.draw_image_with_image_bitmap(&bitmap, 0.0, 0.0).map_err(fail)?;
    bitmap.close();
    let data = ctx.get_image_data(0.0, 0.0, w as f64, h as f64).map_err(fail)?;
    Image::new(w, h, PixelFormat::Rgba8, data.data().0)
}

/// A 2D context kept in CPU memory (`willReadFrequently`): every canvas here is written with
/// `putImageData` and read back (`getImageData`, or encoded), so a GPU-backed canvas would
/// only add an upload and a readback per image. (Measured: no change in headless Chromium on
/// SwiftShader; it is the documented hint for this access pattern.)
fn context(canvas: &OffscreenCanvas) -> std::result::Result<OffscreenCanvasRenderingContext2d, JsValue> {
    let opts = crate::js::obj(&[("willReadFrequently", JsValue::TRUE)]);
    canvas
        .get_context_with_context_options("2d", &opts)?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .dyn_into::<OffscreenCanvasRenderingContext2d>()
        .map_err(|_| JsValue::from_str("unexpected context type"))
}

fn canvas_with(img: &Image) -> std::result::Result<OffscreenCanvas, JsValue> {
    let canvas = OffscreenCanvas::new(img.width(), img.height())?;
    put_image(&context(&canvas)?, img)?;
    Ok(canvas)
}

fn put_image(ctx: &OffscreenCanvasRenderingContext2d, img: &Image) -> std::result::Result<(), JsValue> {
    let rgba = img.to_rgba8();
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(rgba.data()),
        img.width(),
        img.height(),
    )?;
    ctx.put_image_data(&data, 0.0, 0.0)
}
