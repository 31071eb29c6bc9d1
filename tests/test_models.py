"""The case-study models: paper parameter counts, the shared contract, torchvision equivalence,
and the lecture's identity claim."""

from __future__ import annotations

import inspect

import pytest
import torch
import torchvision
from torch import nn

import classicnets as cn
from classicnets.errors import UnknownNameError
from classicnets.models.lenet import C3_TABLE, rbf_codes
from classicnets.models.resnet import BasicBlock, Bottleneck, PadShortcut
from classicnets.registry import builder

ALL = cn.list_models()

# The figures the issue and the papers give, typed in independently of the registry.
EXPECTED_PARAMS = {
    "lenet5": 60_000, "lenet5_modern": 61_706,
    "alexnet": 60_965_224, "alexnet_onetower": 62_378_344, "alexnet_owt": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808,
    "resnet20": 269_722, "resnet32": 464_154, "resnet44": 658_586, "resnet56": 853_018,
    "resnet110": 1_727_962, "resnet1202": 19_421_274,
}


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


def test_registry_lists_every_family():
    assert {cn.model_info(n).family for n in ALL} == {"lenet", "alexnet", "vgg", "resnet"}
    assert cn.list_models("plain*") == ["plain18", "plain34", "plain20", "plain32", "plain44", "plain56", "plain110"]
    for vgg in ("vgg11", "vgg13", "vgg16c", "vgg16", "vgg19"):
        assert vgg in ALL and vgg + "_bn" in ALL


def test_unknown_name_suggests_nearest():
    with pytest.raises(UnknownNameError, match="did you mean .*resnet20"):
        cn.create_model("resnet21")


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMS))
def test_parameter_count_matches_paper(name):
    assert n_params(cn.create_model(name)) == EXPECTED_PARAMS[name]


@pytest.mark.parametrize("name", ALL)
def test_parameter_count_matches_registry(name):
    assert n_params(cn.create_model(name)) == cn.model_info(name).params.value


@pytest.mark.parametrize("twin", ["20", "32", "44", "56", "110"])
def test_cifar_plain_twin_has_same_parameters(twin):
    assert n_params(cn.create_model("plain" + twin)) == EXPECTED_PARAMS["resnet" + twin]


@pytest.mark.parametrize("name", ALL)
def test_forward_backward_on_paper_input(name):
    info = cn.model_info(name)
    torch.manual_seed(0)
    model = cn.create_model(name)
    x = torch.randn(2 if info.input_size[1] <= 32 else 1, *info.input_size)
    if name.startswith("resnet1202"):
        x = x[:1]
    out = model(x)
    assert out.shape == (x.shape[0], info.num_classes)
    out.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model.forward_head(model.forward_features(x)))


@pytest.mark.parametrize("name", ALL)
def test_grayscale_input_and_other_classes(name):
    info = cn.model_info(name)
    model = cn.create_model(name, in_chans=1, num_classes=7).eval()
    with torch.no_grad():
        feats = model.forward_features(torch.randn(1, 1, *info.input_size[1:]))
        assert feats.ndim == 4 and feats.shape[1] == model.feature_info[-1]["num_chs"]
        assert model.forward_head(feats).shape == (1, 7)
        model.reset_classifier(3)
        assert model.num_classes == 3 and model.forward_head(feats).shape == (1, 3)
        assert model.forward_head(feats, pre_logits=True).ndim == 2


def _tv_equal(name: str, tv_name: str, **tv_kwargs) -> None:
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, tv_name)(weights=None, **tv_kwargs).eval()
    with torch.no_grad():  # give BN non-trivial running statistics so they are compared too
        for m in theirs.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    ours = cn.create_model(name).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    theirs.load_state_dict(ours.state_dict(), strict=True)  # and back
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


TORCHVISION_TWINS = [n for n in ALL if cn.model_info(n).torchvision]


def test_torchvision_twins_cover_the_issue():
    expected = {"alexnet_owt", *[f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")],
                "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"}
    assert set(TORCHVISION_TWINS) == expected


@pytest.mark.parametrize("name", TORCHVISION_TWINS)
def test_outputs_equal_torchvision_for_same_weights(name):
    _tv_equal(name, cn.model_info(name).torchvision)


def test_feature_pyramid_shapes():
    m = cn.create_model("resnet50").eval()
    x = torch.randn(1, 3, 224, 224)
    assert [f["num_chs"] for f in m.feature_info] == [256, 512, 1024, 2048]
    assert [f["reduction"] for f in m.feature_info] == [4, 8, 16, 32]
    assert m.forward_features(x).shape == (1, 2048, 7, 7)


# ---- the lecture's identity claim: a[l+2] = g(a[l]) = a[l] when F's last W and b are zero ----

@pytest.mark.parametrize("batch_norm", [True, False])
@pytest.mark.parametrize("kind", ["A", "B", "C"])
@pytest.mark.parametrize("block_cls", [BasicBlock, Bottleneck])
def test_residual_block_with_zeroed_last_layer_is_identity(block_cls, kind, batch_norm):
    torch.manual_seed(0)
    channels = 16 * block_cls.expansion
    block = block_cls(channels, 16, 1, shortcut=kind, batch_norm=batch_norm).eval()
    block.zero_init_last()
    x = torch.rand(3, channels, 8, 8) * 5  # any non-negative input (the output of a ReLU)
    out = block(x)
    if kind == "C":  # a projection on every block is not the identity, even with F = 0
        assert not torch.equal(out, x)
    else:
        assert torch.equal(out, x)


@pytest.mark.parametrize("batch_norm", [True, False])
def test_plain_block_with_zeroed_last_layer_returns_zero(batch_norm):
    torch.manual_seed(0)
    block = BasicBlock(16, 16, 1, shortcut=None, batch_norm=batch_norm).eval()
    block.zero_init_last()
    x = torch.rand(3, 16, 8, 8) * 5
    assert torch.equal(block(x), torch.zeros_like(x))  # g(b) = relu(0) = 0: the input is lost


def test_zero_init_residual_makes_every_block_identity_at_start():
    model = cn.create_model("resnet20", zero_init_residual=True).eval()
    x = torch.rand(2, 16, 32, 32)
    assert torch.equal(model.layer1(x), x)


def test_option_a_shortcut_subsamples_and_pads_zero_channels():
    x = torch.randn(2, 16, 8, 8)
    y = PadShortcut(16, 32, 2)(x)
    assert y.shape == (2, 32, 4, 4)
    assert torch.equal(y[:, :16], x[:, :, ::2, ::2]) and torch.equal(y[:, 16:], torch.zeros(2, 16, 4, 4))


def test_shape_changing_block_needs_ws_for_options_b_and_c_only():
    assert isinstance(BasicBlock(16, 32, 2, shortcut="A").downsample, PadShortcut)
    assert n_params(BasicBlock(16, 32, 2, shortcut="B").downsample) == 16 * 32 + 2 * 32
    assert BasicBlock(16, 16, 1, shortcut="B").downsample is None  # a[l] is added as it is
    assert n_params(BasicBlock(16, 16, 1, shortcut="C").downsample) == 16 * 16 + 2 * 16


@pytest.mark.parametrize(
    "shortcut,changes,path",
    [("A", False, "identity"), ("A", True, "zero-pad"), ("B", False, "identity"), ("B", True, "projection"),
     ("C", False, "projection"), (None, False, "none"), (None, True, "none")],
)  # fmt: skip
def test_block_knows_its_shortcut_and_reads_as_the_equation(shortcut, changes, path):
    torch.manual_seed(0)
    block = BasicBlock(16, 32 if changes else 16, 2 if changes else 1, shortcut=shortcut).eval()
    assert block.shortcut_kind == shortcut and block.shortcut_path() == path and block.residual == (shortcut is not None)
    x = torch.rand(2, 16, 8, 8)
    with torch.no_grad():
        expected = block.residual_branch(x) + (block.shortcut(x) if block.residual else 0)
        assert torch.equal(block(x), torch.relu(expected))  # a[l+2] = g(F(a[l]) + shortcut(a[l]))


@pytest.mark.parametrize("plain,res", [("plain20", "resnet20"), ("plain56", "resnet56"), ("plain34", "resnet34")])
def test_plain_and_residual_twins_differ_only_in_shortcut(plain, res):
    p, r = cn.create_model(plain), cn.create_model(res)
    strip = lambda m: [(k, v.shape) for k, v in m.state_dict().items() if ".downsample." not in k]  # noqa: E731
    assert strip(p) == strip(r)
    blocks_p = [m for m in p.modules() if isinstance(m, BasicBlock)]
    blocks_r = [m for m in r.modules() if isinstance(m, BasicBlock)]
    assert len(blocks_p) == len(blocks_r) > 0
    assert all(b.shortcut_kind is None and not b.residual and b.downsample is None for b in blocks_p)
    assert all(b.shortcut_kind == r.layer1[0].shortcut_kind and b.residual for b in blocks_r)
    assert any(b.downsample is not None for b in blocks_r)  # where the shape changes
    assert cn.create_model(res, shortcut=None).state_dict().keys() == p.state_dict().keys()


# ---- LeNet-5 and AlexNet details ----

def test_lenet_c3_follows_table_one():
    c3 = cn.create_model("lenet5").features.c3
    w = c3.full_weight()
    connected = w.abs().sum(dim=(2, 3)) > 0
    for j, inputs in enumerate(C3_TABLE):
        assert set(connected[j].nonzero().flatten().tolist()) == set(inputs)
    assert int(connected.sum()) == 60
    assert [len(t) for t in C3_TABLE] == [3] * 6 + [4] * 9 + [6]


def test_lenet_rbf_is_distance_to_fixed_codes():
    m = cn.create_model("lenet5")
    codes = rbf_codes(10)
    assert set(codes.unique().tolist()) == {-1.0, 1.0} and codes.shape == (10, 84)
    assert not any(p is m.head.codes for p in m.parameters())
    x = codes[3:4].clone()
    out = m.head(x)
    assert out.argmax().item() == 3 and out[0, 3] == 0  # the exact code is at distance 0
    assert cn.create_model("lenet5", output="linear").head.weight.shape == (10, 84)


def test_lenet_squash_and_subsampling():
    from classicnets.models.lenet import Subsampling, squash

    assert torch.isclose(squash(torch.tensor(1.0)), 1.7159 * torch.tanh(torch.tensor(2 / 3)))
    s = Subsampling(1)
    with torch.no_grad():
        s.weight.fill_(0.5)
        s.bias.fill_(1.0)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert s(x)[0, 0, 0, 0] == (0 + 1 + 4 + 5) * 0.5 + 1.0


def test_alexnet_lrn_is_the_paper_formula():
    lrn = cn.create_model("alexnet").features.norm1
    a = torch.rand(1, 12, 3, 3) * 10
    sq = torch.nn.functional.pad(a.square(), (0, 0, 0, 0, 2, 2))
    sums = torch.stack([sq[:, i : i + 5].sum(1) for i in range(12)], 1)
    expected = a / (2.0 + 1e-4 * sums) ** 0.75  # k=2, n=5, alpha=1e-4, beta=0.75 (section 3.3)
    torch.testing.assert_close(lrn(a), expected)


def test_alexnet_two_towers_and_shapes():
    m = cn.create_model("alexnet").eval()
    assert [getattr(m.features, n).groups for n in ("conv1", "conv2", "conv3", "conv4", "conv5")] == [1, 2, 1, 2, 2]
    assert m.forward_features(torch.randn(1, 3, 227, 227)).shape == (1, 256, 6, 6)


def test_model_info_cites_paper_and_deviations():
    for name in ALL:
        info = cn.model_info(name)
        assert info.paper and info.year and info.params.source and info.deviations
        entry = builder(name)
        assert entry.__name__ == name  # written as `def name(...)` in its family's file (grep finds it)
        assert f"def {name}(" in inspect.getsource(inspect.getmodule(entry))
        assert f"model_info({name!r}).deviations" in entry.__doc__.replace('"', "'")
    assert cn.model_info("resnet20").error.value == 8.75
    assert cn.model_info("vgg16").to_dict()["params"]["value"] == 138_357_544


# ---- the timm contract ----


@pytest.mark.parametrize("name", ["lenet5", "lenet5_modern", "alexnet", "alexnet_owt", "vgg11", "resnet18", "resnet50", "resnet20"])
def test_num_classes_zero_gives_pooled_features_as_timm(name):
    info = cn.model_info(name)
    torch.manual_seed(0)
    model = cn.create_model(name).eval()
    x = torch.randn(1, *info.input_size)
    with torch.no_grad():
        features = model.forward_head(model.forward_features(x), pre_logits=True)
        assert features.shape == (1, model.head_hidden_size)
        assert model.forward_features(x).shape[1] == model.num_features
        model.reset_classifier(0)
        assert isinstance(model.get_classifier(), nn.Identity) and model.num_classes == 0
        assert torch.equal(model(x), features)
        headless = cn.create_model(name, num_classes=0).eval()
        assert headless(x).shape == (1, model.head_hidden_size)
        assert isinstance(headless.get_classifier(), nn.Identity)


def test_num_features_and_head_width_per_family():
    widths = {name: (cn.create_model(name).num_features, cn.create_model(name).head_hidden_size)
              for name in ("lenet5", "alexnet", "vgg16", "resnet50", "resnet20")}  # fmt: skip
    assert widths == {"lenet5": (120, 84), "alexnet": (256, 4096), "vgg16": (512, 4096), "resnet50": (2048, 2048),
                      "resnet20": (64, 64)}  # fmt: skip


@pytest.mark.parametrize(
    "kwargs,message",
    [({"num_classes": -1}, "num_classes must be a whole number >= 0, got -1"),
     ({"in_chans": 0}, "in_chans must be a whole number >= 1, got 0"),
     ({"in_chans": 2.5}, "in_chans must be a whole number >= 1, got 2.5"),
     ({"num_classes": True}, "num_classes must be a whole number >= 0, got True"),
     ({"no_such_argument": 1}, "cannot build resnet20")],
)  # fmt: skip
def test_create_model_checks_its_arguments(kwargs, message):
    with pytest.raises(cn.UserError, match=message.replace("(", r"\(")):
        cn.create_model("resnet20", **kwargs)


def test_every_model_has_a_pretrained_cfg():
    for name in ALL:
        cfg = cn.create_model(name).pretrained_cfg if cn.model_info(name).depth < 100 else None
        if cfg is None:
            continue
        info = cn.model_info(name)
        assert cfg.architecture == name and cfg.input_size == info.input_size and cfg.num_classes == info.num_classes
        assert len(cfg.mean) == len(cfg.std) == info.input_size[0] and cfg.weights == "untrained"
    imagenet = cn.create_model("resnet18").pretrained_cfg
    assert imagenet.fit == "crop" and imagenet.crop_pct == 0.875 and imagenet.mean == (0.485, 0.456, 0.406)
    lenet = cn.create_model("lenet5").pretrained_cfg
    assert (lenet.image_size, lenet.fit, lenet.input_size) == ((28, 28), "pad", (1, 32, 32))
    gray = cn.create_model("resnet18", in_chans=1).pretrained_cfg
    assert gray.input_size == (1, 224, 224) and len(gray.mean) == 1
