//! Which of the first test items change their predicted class under JPEG q=1 (used to pick
//! the browser test's item): `cargo run -p mpq-cli --example flip_items`.
use mpq_core::{Image, Media, PixelFormat, codec::parse_param_pairs};
use mpq_models::{Classifier, ModelId, cpu_device, data::decode_subset};
use mpq_metrics::perception::argmax;

fn main() {
    let task = ModelId::FashionCnn.task();
    let set = decode_subset(task.bundled_test_subset()).unwrap();
    let model = Classifier::load_bundled(ModelId::FashionCnn, &cpu_device()).unwrap();
    let jpeg = mpq_codecs::codec("jpeg").unwrap();
    let params = parse_param_pairs(["quality=1"]).unwrap();
    for i in 0..10 {
        let img = Image::new(28, 28, PixelFormat::Gray8, set.image(i).to_vec()).unwrap();
        let enc = jpeg.encode(&Media::Image(img), &params).unwrap();
        let dec = jpeg.decode(&enc).unwrap().into_image().unwrap();
        let px = mpq_models::sweep::task_pixels(&dec, task).unwrap();
        let mut both = set.image(i).to_vec();
        both.extend(px);
        let p = model.predict(&both, 2).unwrap();
        println!("item {i}: label {} original {} q1 {}", set.labels[i], argmax(&p[0].probs), argmax(&p[1].probs));
    }
}
