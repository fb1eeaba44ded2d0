"""The `loihi` preset against SANA-FE's calibrated Loihi model (within 12% of the chip, Boyle et al. 2025) on SANA-FE's
own random validation networks (benchmarks/loihi_validation.py): within 20%. The pricing of SANA-FE's events by
hand needs no sanafe; the comparison runs where sanafe is installed (it is not a project dependency)."""

from importlib.util import find_spec

import pytest

from benchmarks import loihi_validation as bench
from hardware.chip import load_chip


def test_events_priced_with_the_chip_file_by_hand():
    ev = bench.Events(steps=2, synaptic=100, accesses=50, updated=20, fired=10, packets=5, hop_pJ=72.0,
                      total_pJ=0.0)
    chip = load_chip("loihi")
    # 100 x 35.5 + 20 x 81 + 30 x 52 + 10 x 69.3 + 5 x (111 + 0) + hops 72 x (3.0 + 4.0) / (3.0 + 4.2)
    assert bench.ours_pJ(ev, chip) == pytest.approx(3550 + 1620 + 1560 + 693 + 555 + 72 * 7.0 / 7.2)


@pytest.mark.skipif(find_spec("sanafe") is None, reason="sanafe is not installed (pip install sanafe)")
@pytest.mark.parametrize("spec", [(1, 64, 1, 8, 100), (4, 256, 4, 8, 50)])
def test_loihi_preset_within_20_percent_of_sanafe_calibrated_loihi(spec):
    ev = bench.sanafe_events(*spec, steps=10)
    assert ev.synaptic > 0 and ev.packets > 0
    assert abs(bench.ours_pJ(ev, load_chip("loihi")) / ev.total_pJ - 1) <= 0.2
