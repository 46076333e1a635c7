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

    pub async fn decode(&self, bytes: &[u8]) -> Result<Image> {
        decode_with_browser(bytes, self.mime).await.map(|i| i.to_rgb8())
    }
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

fn context(canvas: &OffscreenCanvas) -> std::result::Result<OffscreenCanvasRenderingContext2d, JsValue> {
    canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .dyn_into::<OffscreenCanvasRenderingContext2d>()
        .map_err(|_| JsValue::from_str("unexpected context type"))
}

fn canvas_with(img: &Image) -> std::result::Result<OffscreenCanvas, JsValue> {
    let canvas = OffscreenCanvas::new(img.width(), img.height())?;
    let ctx = context(&canvas)?;
    let rgba = img.to_rgba8();
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(rgba.data()),
        img.width(),
        img.height(),
    )?;
    ctx.put_image_data(&data, 0.0, 0.0)?;
    Ok(canvas)
}
