//! The profiled device's flame graph (`--profile`): an SVG drawn by `inferno` from the folded
//! stacks, interactive (click to zoom, search) in its own frame.
//!
//! The page embeds it as a `data:` URL in an `<iframe>` rather than inline: inferno's SVG
//! brings a style sheet with rules for `text`, `#title`, `#details`, ... and a script written
//! for a standalone SVG document, which inline would restyle the page and clash with its ids.
//! A frame keeps both to the graph and still needs nothing from the network.

use anyhow::{Context, Result};
use base64::Engine as _;
use inferno::flamegraph::{self, Options};

/// Frame height, px (inferno's default is 16).
const FRAME_HEIGHT: usize = 16;

/// The flame graph SVG of `folded` (lines `a;b;c COUNT`), counting `count_name`.
pub fn svg(folded: &str, title: &str, count_name: &str) -> Result<String> {
    let mut opt = Options::default();
    opt.title = title.to_string();
    opt.count_name = count_name.to_string();
    opt.frame_height = FRAME_HEIGHT;
    // Colours from the function names, so that one function keeps its colour across runs;
    // no random choices, so that one profile gives one SVG.
    opt.hash = true;
    opt.deterministic = true;
    let mut out = Vec::new();
    flamegraph::from_lines(&mut opt, folded.lines(), &mut out)
        .context("inferno cannot draw the flame graph")?;
    String::from_utf8(out).context("inferno wrote something other than UTF-8")
}

/// The SVG's height in px, from its root element (for the frame's height).
pub fn height(svg: &str) -> Option<u32> {
    let root = &svg[svg.find("<svg")?..];
    let root = &root[..root.find('>')?];
    let at = root.find(" height=\"")? + " height=\"".len();
    let rest = &root[at..];
    rest[..rest.find('"')?].parse().ok()
}

/// The SVG as a `data:` URL.
pub fn data_url(svg: &str) -> String {
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_stacks_become_an_svg_with_every_function() {
        let folded = "main;upload;sigv4_sign 300\nmain;upload;mbedtls_ssl_handshake 700\nmain 5\n";
        let s = svg(folded, "device a", "cycles").unwrap();
        assert!(s.contains("<svg"), "{s}");
        for f in ["sigv4_sign", "mbedtls_ssl_handshake", "upload", "device a"] {
            assert!(s.contains(f), "{f} missing");
        }
        let h = height(&s).unwrap();
        assert!(h > 3 * FRAME_HEIGHT as u32, "{h}");
        assert!(data_url(&s).starts_with("data:image/svg+xml;base64,PD94bWwg"));
        assert_eq!(height("no svg here"), None);
    }
}
