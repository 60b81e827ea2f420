//! Pictures to files: SVG as it is, or PNG rasterised in pure Rust by `resvg` (usvg parses,
//! tiny-skia paints), with no system library and no system font.
//!
//! Text needs a font: a subset of DejaVu Sans (regular and bold: Latin, Greek, punctuation,
//! super- and subscripts, arrows and mathematical operators) is compiled into the binary and
//! is the only font the rasteriser knows, so a PNG looks the same on every machine. The
//! subset and its licence (Bitstream Vera, DejaVu changes in the public domain) are in
//! `assets/fonts/`; `scripts/subset-font.sh` rebuilds it.

use crate::draw::write_text_file;
use crate::exit::CliError;
use crate::output_file::AtomicFile;
use resvg::{tiny_skia, usvg};
use std::io::Write;
use std::path::Path;

/// The embedded regular face.
const REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-subset.ttf");
/// The embedded bold face.
const BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold-subset.ttf");
/// The family both faces carry.
const FAMILY: &str = "DejaVu Sans";
/// Pixels per SVG unit: PNGs are drawn at twice the SVG's size, sharp on high-density screens.
const SCALE: f32 = 2.0;

/// The picture formats, chosen by the output file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PictureFormat {
    /// `.svg`: the document as it is.
    Svg,
    /// `.png`: rasterised.
    Png,
}

impl PictureFormat {
    /// The format of `path` by its extension (case-insensitive); anything else is a usage
    /// error naming the flag.
    pub fn of(path: &Path, flag: &str) -> Result<Self, CliError> {
        let extension = path
            .extension()
            .map(|extension| extension.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("svg") => Ok(PictureFormat::Svg),
            Some("png") => Ok(PictureFormat::Png),
            _ => Err(CliError::usage(format!(
                "{flag} {}: the file name must end in .svg or .png",
                path.display()
            ))),
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            PictureFormat::Svg => "svg",
            PictureFormat::Png => "png",
        }
    }
}

/// Rasterises an SVG document to PNG bytes, at [`SCALE`] pixels per unit.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, String> {
    let mut options = usvg::Options {
        font_family: FAMILY.to_string(),
        ..usvg::Options::default()
    };
    let fonts = options.fontdb_mut();
    fonts.load_font_data(REGULAR.to_vec());
    fonts.load_font_data(BOLD.to_vec());
    fonts.set_sans_serif_family(FAMILY);
    let tree = usvg::Tree::from_str(svg, &options).map_err(|error| error.to_string())?;
    let size = tree.size();
    let width = (size.width() * SCALE).ceil() as u32;
    let height = (size.height() * SCALE).ceil() as u32;
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| format!("cannot make a {width} × {height} picture"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(SCALE, SCALE),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|error| error.to_string())
}

/// Writes `svg` to `path` atomically, as SVG or PNG by the extension (checked by
/// [`PictureFormat::of`] with `flag` named in errors).
pub fn write_picture(path: &Path, svg: &str, flag: &str) -> Result<(), CliError> {
    match PictureFormat::of(path, flag)? {
        PictureFormat::Svg => write_text_file(path, svg),
        PictureFormat::Png => {
            let png = svg_to_png(svg).map_err(|error| {
                CliError::Runtime(format!("{}: cannot draw the PNG: {error}", path.display()))
            })?;
            let mut file = AtomicFile::create(path)?;
            file.file().write_all(&png).map_err(|error| {
                CliError::io(format!("{}: cannot write", path.display()), error)
            })?;
            file.commit()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(
            PictureFormat::of(Path::new("a.SVG"), "--out").unwrap(),
            PictureFormat::Svg
        );
        assert_eq!(
            PictureFormat::of(Path::new("a.png"), "--out").unwrap(),
            PictureFormat::Png
        );
        let error = PictureFormat::of(Path::new("a.jpg"), "--out").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("--out a.jpg"), "{error}");
    }

    #[test]
    fn text_is_drawn_with_the_embedded_font() {
        // The same picture with and without a label: the label must change pixels.
        let frame = |text: &str| {
            format!(
                r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" font-family="DejaVu Sans, sans-serif"><text x="10" y="25" font-size="16" fill="#000000">{text}</text></svg>"##
            )
        };
        let with_text = svg_to_png(&frame("δ ‖∂C/∂w‖")).unwrap();
        let without = svg_to_png(&frame("")).unwrap();
        assert_eq!(&with_text[1..4], b"PNG");
        assert_ne!(with_text, without, "the label was not drawn");
    }
}
