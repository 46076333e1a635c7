//! The comparison view's geometry: one zoom and pan shared by both sides (so they stay
//! aligned pixel for pixel) and the split position. Pure maths, tested natively.

/// Scale and offset mapping image pixels to view pixels: `view = image · scale + offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub scale: f64,
    pub tx: f64,
    pub ty: f64,
    /// Split between the sides as a fraction of the view's width, 0..=1.
    pub split: f64,
}

pub const MIN_SCALE: f64 = 0.05;
pub const MAX_SCALE: f64 = 64.0;

impl Default for Viewport {
    fn default() -> Self {
        Viewport { scale: 1.0, tx: 0.0, ty: 0.0, split: 0.5 }
    }
}

impl Viewport {
    /// Fits the image inside the view, centred (small images are enlarged, up to 8×).
    pub fn fit(&mut self, view_w: f64, view_h: f64, img_w: f64, img_h: f64) {
        if img_w <= 0.0 || img_h <= 0.0 || view_w <= 0.0 || view_h <= 0.0 {
            return;
        }
        self.scale = (view_w / img_w).min(view_h / img_h).clamp(MIN_SCALE, 8.0);
        self.tx = (view_w - img_w * self.scale) / 2.0;
        self.ty = (view_h - img_h * self.scale) / 2.0;
    }

    /// One image pixel per screen pixel, keeping the view's centre fixed.
    pub fn actual_size(&mut self, view_w: f64, view_h: f64) {
        self.zoom_at(1.0 / self.scale, view_w / 2.0, view_h / 2.0);
    }

    /// Zooms by `factor` keeping the image point under (`px`, `py`) in place.
    pub fn zoom_at(&mut self, factor: f64, px: f64, py: f64) {
        if !factor.is_finite() || factor <= 0.0 {
            return;
        }
        let new = (self.scale * factor).clamp(MIN_SCALE, MAX_SCALE);
        let k = new / self.scale;
        self.tx = px - (px - self.tx) * k;
        self.ty = py - (py - self.ty) * k;
        self.scale = new;
    }

    pub fn pan(&mut self, dx: f64, dy: f64) {
        self.tx += dx;
        self.ty += dy;
    }

    pub fn set_split(&mut self, fraction: f64) {
        if fraction.is_finite() {
            self.split = fraction.clamp(0.0, 1.0);
        }
    }

    /// Image coordinates under a view point.
    pub fn to_image(&self, px: f64, py: f64) -> (f64, f64) {
        ((px - self.tx) / self.scale, (py - self.ty) / self.scale)
    }

    /// The CSS transform that puts a canvas of the image's size in place.
    pub fn css_transform(&self) -> String {
        format!("translate({:.3}px, {:.3}px) scale({:.5})", self.tx, self.ty, self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_centres_and_zoom_keeps_the_point_under_the_cursor() {
        let mut v = Viewport::default();
        v.fit(800.0, 400.0, 512.0, 512.0);
        assert!((v.scale - 400.0 / 512.0).abs() < 1e-12);
        assert!((v.ty).abs() < 1e-9 && (v.tx - 200.0).abs() < 1e-9);
        let before = v.to_image(300.0, 100.0);
        v.zoom_at(3.0, 300.0, 100.0);
        let after = v.to_image(300.0, 100.0);
        assert!((before.0 - after.0).abs() < 1e-9 && (before.1 - after.1).abs() < 1e-9);
        v.actual_size(800.0, 400.0);
        assert_eq!(v.scale, 1.0);
    }

    #[test]
    fn bounds_hold() {
        let mut v = Viewport::default();
        v.zoom_at(1e9, 0.0, 0.0);
        assert_eq!(v.scale, MAX_SCALE);
        v.zoom_at(f64::NAN, 0.0, 0.0);
        assert_eq!(v.scale, MAX_SCALE);
        v.set_split(1.7);
        assert_eq!(v.split, 1.0);
        v.set_split(f64::NAN);
        assert_eq!(v.split, 1.0);
        v.fit(0.0, 100.0, 10.0, 10.0); // hidden view: unchanged
        assert_eq!(v.scale, MAX_SCALE);
        v.fit(800.0, 800.0, 28.0, 28.0); // tiny images are enlarged, but not without bound
        assert_eq!(v.scale, 8.0);
    }
}
