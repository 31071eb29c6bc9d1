"""The "why it works" sentences are written from the numbers beside them: fed numbers on either side
of each claim, the sentence changes with them (it can never say what the numbers contradict)."""

from __future__ import annotations

from classicnets.experiments.why import (
    as_written,
    gradient_sentences,
    ratio_sentences,
    removal_sentences,
)


def layers(*norms: float) -> list[dict]:
    """Weight layers in forward order, the classifier (fc) last, on another scale."""
    return [{"layer": f"conv{i}", "norm": n} for i, n in enumerate(norms)] + [{"layer": "fc", "norm": 1e4}]


def test_numbers_as_a_person_writes_them() -> None:
    assert [as_written(x) for x in (1360, 2487.3, 36.4, 3.14, 0.048, 10)] == ["1,400", "2,500", "36", "3.1", "0.048", "10"]
    assert "e+" not in as_written(1.36e3)


def test_the_gradient_sentences_follow_the_numbers() -> None:
    grows = gradient_sentences({"plain56": layers(100, 10, 1), "resnet56": layers(2, 1.5, 1)})
    assert "100 times larger at the first convolution" in grows[0] and "2.0 times larger" in grows[1]
    assert "does not vanish towards the input: it grows" in grows[2]
    assert "spans a factor of 100; ResNet-56's spans 2.0: the shortcuts keep it in a narrower band" in grows[2]
    shrinks = gradient_sentences({"plain56": layers(1, 10, 100), "resnet56": layers(1, 500, 1000)})
    assert "100 times smaller at the first convolution" in shrinks[0]
    assert "shrinks towards the input" in shrinks[2] and "here the shortcuts do not narrow the band" in shrinks[2]
    assert all("fc" not in s and "10,000" not in s for s in grows + shrinks)  # the classifier is left out


def test_the_ratio_sentences_follow_the_numbers() -> None:
    def blocks(*ratios: float) -> list[dict]:
        return [{"block": f"layer1.{i}", "shortcut": "identity", "ratio": r} for i, r in enumerate(ratios)]

    small = ratio_sentences("resnet56", blocks(0.1, 0.2, 0.3))
    assert small[0].startswith("In 3 of ResNet-56's 3 blocks") and "a small correction" in small[1]
    half = ratio_sentences("resnet20", blocks(0.5, 0.7, 0.9))
    assert "less than they pass on, but not a small correction" in half[1]
    large = ratio_sentences("resnet20", blocks(0.48, 1.84, 3.06))
    assert "from 0.48 to 3.06, its median 1.84" in large[0] and "not small corrections" in large[1]
    assert "small correction to their input, as the lecture" not in " ".join(large)


def test_the_removal_sentences_quote_their_sample_and_the_full_test_figure() -> None:
    def rows(*accuracies: float) -> list[dict]:
        return [{"block": f"layer{i}", "shortcut": "identity", "accuracy": a} for i, a in enumerate(accuracies)]

    found = {"images": 500, "resnet": {"model": "resnet20", "accuracy": 0.94, "blocks": rows(0.5, 0.9, 0.2)},
             "plain": None, "plain_note": "no trained plain network ships yet"}  # fmt: skip
    said = removal_sentences(found, {"resnet20": 0.0772})
    assert said[0].startswith("ResNet-20: 94.0% of these 500 test images (on all 10,000: 92.3%).")
    assert "within 10 points for 1 of its 3 blocks" in said[0] and "(layer2) leaves 20.0%" in said[0]
    assert said[1] == "Plain network: no trained plain network ships yet."
    cut = {**found, "plain": {"model": "plain56", "accuracy": 0.9, "blocks": rows(0.1, 0.12, 0.09)}, "plain_note": None}
    assert "the only path, and removing it cuts the network" in removal_sentences(cut, {})[1]
    survives = {**cut, "plain": {"model": "plain56", "accuracy": 0.9, "blocks": rows(0.1, 0.85, 0.09)}}
    assert "some of its blocks can go without cutting it" in removal_sentences(survives, {})[1]
