//! A minimal PNG encoder for plotters' RGB buffers: signature, `IHDR`, one `IDAT`, `IEND`. No
//! time or text chunks, so the same pixels always give the same bytes.
//!
//! Each row is filtered with `Sub` (the difference from the pixel to the left), which turns a
//! chart's flat areas into runs of zeros that deflate squeezes well.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};

const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];
const BYTES_PER_PIXEL: usize = 3;
const FILTER_SUB: u8 = 1;

/// Encodes `rgb` (rows top to bottom, 3 bytes a pixel) as an 8-bit truecolour PNG.
pub(super) fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> std::io::Result<Vec<u8>> {
    let row_len = width as usize * BYTES_PER_PIXEL;
    assert_eq!(rgb.len(), row_len * height as usize, "RGB buffer size");

    let mut filtered = Vec::with_capacity((row_len + 1) * height as usize);
    for row in rgb.chunks_exact(row_len) {
        filtered.push(FILTER_SUB);
        filtered.extend_from_slice(&row[..BYTES_PER_PIXEL]);
        filtered.extend(
            row[BYTES_PER_PIXEL..]
                .iter()
                .zip(row)
                .map(|(byte, left)| byte.wrapping_sub(*left)),
        );
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&filtered)?;
    let compressed = encoder.finish()?;

    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
    header.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut png = Vec::with_capacity(compressed.len() + 64);
    png.extend_from_slice(&SIGNATURE);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &compressed);
    chunk(&mut png, b"IEND", &[]);
    Ok(png)
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.sum().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::ZlibDecoder;

    use super::*;

    /// Splits a PNG into its chunks, checking each CRC.
    fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        assert_eq!(png[..8], SIGNATURE);
        let mut out = Vec::new();
        let mut at = 8;
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind: [u8; 4] = png[at + 4..at + 8].try_into().unwrap();
            let data = png[at + 8..at + 8 + len].to_vec();
            let stored = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            let mut crc = Crc::new();
            crc.update(&kind);
            crc.update(&data);
            assert_eq!(crc.sum(), stored, "CRC of {:?}", std::str::from_utf8(&kind));
            out.push((kind, data));
            at += 12 + len;
        }
        out
    }

    #[test]
    fn a_tiny_image_round_trips() {
        // 3×2: red, green, blue / white, white, black.
        let rgb = [
            255, 0, 0, 0, 255, 0, 0, 0, 255, //
            255, 255, 255, 255, 255, 255, 0, 0, 0,
        ];
        let png = encode_rgb(3, 2, &rgb).unwrap();
        let chunks = chunks(&png);
        let kinds: Vec<&[u8; 4]> = chunks.iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [b"IHDR", b"IDAT", b"IEND"]);
        assert_eq!(chunks[0].1, [0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]);

        let mut raw = Vec::new();
        ZlibDecoder::new(&chunks[1].1[..])
            .read_to_end(&mut raw)
            .unwrap();
        let mut decoded = Vec::new();
        for row in raw.chunks_exact(1 + 9) {
            assert_eq!(row[0], FILTER_SUB);
            let mut pixels = row[1..].to_vec();
            for i in BYTES_PER_PIXEL..pixels.len() {
                pixels[i] = pixels[i].wrapping_add(pixels[i - BYTES_PER_PIXEL]);
            }
            decoded.extend(pixels);
        }
        assert_eq!(decoded, rgb);
    }

    #[test]
    fn the_crc_is_the_standard_one() {
        // IEND's CRC is the same in every PNG.
        let png = encode_rgb(1, 1, &[0, 0, 0]).unwrap();
        assert_eq!(png[png.len() - 4..], [0xAE, 0x42, 0x60, 0x82]);
    }
}
