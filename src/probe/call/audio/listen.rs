//! The features of each 20 ms frame, computed as the audio arrives: its level, whether a
//! voice detector hears a voice, and how its spectrum looks and holds.
//!
//! Why these: a voice detector alone takes plucked, tremolo hold music for speech (it did on
//! 72 % of such frames), so the spectrum says what it cannot. Notes hold their partials at one
//! frequency for a tenth of a second or more where speech glides (`sustain`); a beep or a
//! network tone puts its energy in one or two narrow peaks (`peak2`); noise is flat (`flat`).

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::{Frame, FRAME};

/// FFT over the last two frames (40 ms), 15.6 Hz bins.
const N: usize = 512;
/// The telephone band, 300–3400 Hz, in bins.
const LO: usize = 19;
const HI: usize = 218;
/// Frames a partial must have held, as a peak within a bin, to count as sustained (80 ms).
const HOLD: usize = 4;
/// A peak stands this far above the band's median power (13 dB).
const PEAK_OVER_MEDIAN: f32 = 20.0;

type Bits = [u64; 4];

fn set(b: &mut Bits, k: usize) {
    b[k / 64] |= 1 << (k % 64);
}

fn near(b: &Bits, k: usize) -> bool {
    let has = |k: usize| b[k / 64] >> (k % 64) & 1 == 1;
    has(k) || has(k - 1) || has(k + 1)
}

/// Streams 8 kHz samples into frames: one per call, fed in arrival order.
pub struct Listener {
    vad: Box<earshot::Detector>,
    /// 16 kHz samples waiting for a whole 256-sample detector frame.
    wide: Vec<i16>,
    last_sample: i16,
    voice: f32,
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    buf: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    previous: [i16; FRAME],
    previous_shape: Vec<f32>,
    held: std::collections::VecDeque<Bits>,
    /// Per-frame work space, kept so a frame allocates nothing.
    power: Vec<f32>,
    sorted: Vec<f32>,
    tops: Vec<(f32, usize)>,
    /// Also compute the first rule's `tonal` flag (the bench's comparison only).
    first_rule: bool,
}

impl Default for Listener {
    fn default() -> Self {
        let fft = FftPlanner::new().plan_fft_forward(N);
        let scratch = vec![Complex::default(); fft.get_inplace_scratch_len()];
        let window = (0..2 * FRAME)
            .map(|i| {
                let x = std::f32::consts::PI * 2.0 * i as f32 / (2 * FRAME - 1) as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        Listener {
            vad: earshot::Detector::default_boxed(),
            wide: Vec::with_capacity(512),
            last_sample: 0,
            voice: 0.0,
            fft,
            window,
            buf: vec![Complex::default(); N],
            scratch,
            previous: [0; FRAME],
            previous_shape: vec![0.0; HI - LO],
            held: Default::default(),
            power: Vec::with_capacity(HI - LO),
            sorted: Vec::with_capacity(HI - LO),
            tops: Vec::with_capacity(HI - LO),
            first_rule: false,
        }
    }
}

impl Listener {
    /// The features of the next 20 ms frame (`FRAME` samples at 8 kHz).
    pub fn frame(&mut self, x: &[i16]) -> Frame {
        debug_assert_eq!(x.len(), FRAME);
        let energy: f64 = x.iter().map(|&s| (s as f64) * (s as f64)).sum();
        let mean_square = energy / x.len() as f64;
        let db = if mean_square > 0.0 {
            (10.0 * (mean_square / (32768.0 * 32768.0)).log10()).max(-100.0) as f32
        } else {
            -100.0
        };
        self.hear_voice(x);

        // The spectrum of the last 40 ms.
        for (i, b) in self.buf.iter_mut().enumerate() {
            let s = match i {
                i if i < FRAME => self.previous[i],
                i if i < 2 * FRAME => x[i - FRAME],
                _ => 0,
            };
            let w = self.window.get(i).copied().unwrap_or(0.0);
            *b = Complex::new(s as f32 * w, 0.0);
        }
        self.previous.copy_from_slice(x);
        self.fft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        self.power.clear();
        self.power
            .extend(self.buf[LO..HI].iter().map(|c| c.norm_sqr() + 1e-3));
        let power = &self.power;
        let total: f32 = power.iter().sum();
        let flat = {
            let log_mean = power.iter().map(|p| p.ln()).sum::<f32>() / power.len() as f32;
            (log_mean.exp() / (total / power.len() as f32)).clamp(0.0, 1.0)
        };
        let centroid = power
            .iter()
            .enumerate()
            .map(|(k, p)| (k + LO) as f32 * p)
            .sum::<f32>()
            / total
            / (N / 2) as f32;
        let mut flux = 0.0;
        for (p, before) in power.iter().zip(self.previous_shape.iter_mut()) {
            let shape = p / total;
            flux += (shape - *before).abs();
            *before = shape;
        }
        let flux = flux / 2.0;

        // Peaks, how much energy the two strongest hold, and which partials held.
        self.sorted.clear();
        self.sorted.extend_from_slice(power);
        let mid = self.sorted.len() / 2;
        let median = *self
            .sorted
            .select_nth_unstable_by(mid, |a, b| a.total_cmp(b))
            .1;
        let mut peaks = Bits::default();
        self.tops.clear();
        let mut sustained = 0.0;
        let audible = db > -60.0;
        for k in 1..power.len() - 1 {
            let p = power[k];
            if audible && p > power[k - 1] && p >= power[k + 1] && p > PEAK_OVER_MEDIAN * median {
                set(&mut peaks, k);
                let around = power[k - 1] + p + power[k + 1];
                self.tops.push((around, k));
                if self.held.len() == HOLD && self.held.iter().all(|h| near(h, k)) {
                    sustained += around;
                }
            }
        }
        self.tops.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        let top = self
            .tops
            .first()
            .map_or(0.0, |t| (t.1 + LO) as f32 / (N / 2) as f32);
        let peak2 = self.tops.iter().take(2).map(|t| t.0).sum::<f32>() / total;
        if self.held.len() == HOLD {
            self.held.pop_front();
        }
        self.held.push_back(peaks);

        Frame {
            active: db > super::ACTIVE_DB,
            tonal: self.first_rule && db > super::ACTIVE_DB && super::heuristic::is_tonal(x),
            db,
            voice: self.voice,
            flat,
            peak2: peak2.min(1.0),
            sustain: (sustained / total).min(1.0),
            flux,
            centroid,
            top,
            tone: super::sit::block_tones(x),
        }
    }

    /// Feeds the voice detector at 16 kHz (each sample doubled by linear interpolation: the
    /// detector was trained wideband; telephone audio has nothing above 4 kHz anyway).
    fn hear_voice(&mut self, x: &[i16]) {
        let mut heard = (0.0, 0);
        for &s in x {
            let mid = ((self.last_sample as i32 + s as i32) / 2) as i16;
            self.wide.push(mid);
            self.wide.push(s);
            self.last_sample = s;
            if self.wide.len() >= 256 {
                heard.0 += self.vad.predict_i16(&self.wide[..256]);
                heard.1 += 1;
                self.wide.drain(..256);
            }
        }
        if heard.1 > 0 {
            self.voice = heard.0 / heard.1 as f32;
        }
    }
}

/// The frames of a whole recording (8 kHz), as a call would have heard them.
pub fn frames(samples: &[i16]) -> Vec<Frame> {
    let mut l = Listener::default();
    samples.chunks_exact(FRAME).map(|f| l.frame(f)).collect()
}

/// `frames` with the first rule's `tonal` flag too, for the bench's comparison of the two.
pub fn frames_for_both(samples: &[i16]) -> Vec<Frame> {
    let mut l = Listener {
        first_rule: true,
        ..Listener::default()
    };
    samples.chunks_exact(FRAME).map(|f| l.frame(f)).collect()
}
