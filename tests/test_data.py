"""solutions.data: the embedded digits, the IDX and CIFAR readers on tiny files, transforms."""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from solutions import data
from solutions.data import DataError


def idx_bytes(array):
    """An IDX file of unsigned bytes, as MNIST ships them."""
    array = np.asarray(array, dtype=np.uint8)
    return (b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            + array.tobytes())


def write_mnist(folder, n_train=7, n_test=3, compress=False, seed=0):
    """Four tiny MNIST files in ``folder``; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for part, n in (("train", n_train), ("test", n_test)):
        image_file, label_file = data.MNIST_FILES[part]
        images, labels = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
        for name, array in ((image_file, images), (label_file, labels)):
            content = idx_bytes(array)
            if compress:
                (folder / f"{name}.gz").write_bytes(gzip.compress(content))
            else:
                (folder / name).write_bytes(content)
        arrays[part] = images, labels
    return arrays


def write_cifar(folder, n=4, seed=0):
    rng = np.random.default_rng(seed)
    written = {}
    for name in data.CIFAR_TRAIN + [data.CIFAR_TEST]:
        batch = {b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
                 b"labels": [int(x) for x in rng.integers(0, 10, n)], b"batch_label": b"x"}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        written[name] = batch
    return written


def as_set(images):
    return {tuple(image.flatten().tolist()) for image in images}


def test_digits_are_upsampled_split_and_reproducible():
    splits = data.digits()
    sizes = [len(d) for d in (splits.train, splits.val, splits.test)]
    assert sum(sizes) == 1797 and sizes == [1258, 270, 269]
    images = splits.train.tensors[0]
    assert splits.image_shape == (1, 28, 28) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 1
    assert set(splits.test.tensors[1].tolist()) == set(range(10))
    again, other = data.digits(seed=0), data.digits(seed=1)
    assert torch.equal(again.test.tensors[0], splits.test.tensors[0])
    assert not torch.equal(other.test.tensors[1], splits.test.tensors[1])


def test_digits_upsampling_keeps_the_picture():
    """Averaging the 28x28 image back down to 8x8 gives (nearly) the original digit."""
    from sklearn.datasets import load_digits

    raw = torch.tensor(load_digits().images[:50], dtype=torch.float32)[:, None] / 16
    up = torch.nn.functional.interpolate(raw, size=(28, 28), mode="bilinear")
    down = torch.nn.functional.interpolate(up, size=(8, 8), mode="area")
    assert torch.corrcoef(torch.stack([down.flatten(), raw.flatten()]))[0, 1] > 0.95


def test_split_rejects_bad_fractions():
    images, labels = torch.zeros(5, 1, 2, 2), torch.zeros(5, dtype=torch.int64)
    with pytest.raises(ValueError, match="sum to 1"):
        data.split(images, labels, (0.5, 0.2))
    with pytest.raises(ValueError, match="a split is empty"):
        data.split(images, labels, (0.95, 0.05))


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_files_are_read_back(tmp_path, compress):
    arrays = write_mnist(tmp_path, n_train=12, compress=compress)
    splits = data.mnist(tmp_path, val_fraction=0.25)
    test_images, test_labels = arrays["test"]
    np.testing.assert_allclose(splits.test.tensors[0][:, 0].numpy(), test_images / 255, atol=1e-7)
    np.testing.assert_array_equal(splits.test.tensors[1].numpy(), test_labels)
    assert (len(splits.train), len(splits.val)) == (9, 3)
    train_images, _ = arrays["train"]
    seen = as_set(splits.train.tensors[0].numpy() * 255) | as_set(splits.val.tensors[0].numpy() * 255)
    assert {tuple(np.round(s).astype(int)) for s in seen} == as_set(train_images[:, None])


def test_fashion_mnist_reads_the_same_files_with_its_class_names(tmp_path):
    write_mnist(tmp_path, compress=True)
    splits = data.load("fashion-mnist", tmp_path)
    assert splits.classes[9] == "Ankle boot" and splits.image_shape == (1, 28, 28)


def test_a_gzipped_file_without_the_gz_suffix_is_read(tmp_path):
    arrays = write_mnist(tmp_path)
    name = data.MNIST_FILES["test"][1]
    (tmp_path / name).write_bytes(gzip.compress(idx_bytes(arrays["test"][1])))
    np.testing.assert_array_equal(data.read_idx(tmp_path, name), arrays["test"][1])


def test_a_missing_mnist_file_is_named_with_where_to_get_it(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"missing .*t10k-labels-idx1-ubyte.*yann\.lecun\.com"):
        data.mnist(tmp_path)
    with pytest.raises(DataError, match="zalandoresearch"):
        data.mnist(tmp_path, dataset="fashion-mnist")


@pytest.mark.parametrize("content, message", [
    (b"\x00\x00\x0d\x01" + struct.pack(">I", 2) + b"\x00" * 8, "not an IDX file of unsigned bytes"),
    (b"\x08\x03\x00\x00", "magic number 08030000"),
    (b"", "magic number missing"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated IDX header"),
    (idx_bytes(np.zeros((2, 3, 3)))[:-1], r"shape \(2, 3, 3\) \(34 bytes\) but the file has 33"),
    (idx_bytes(np.zeros((2, 3, 3))) + b"\x00", "but the file has 35 bytes"),
])
def test_corrupt_idx_files_are_rejected_with_the_file_name(tmp_path, content, message):
    (tmp_path / "broken").write_bytes(content)
    with pytest.raises(DataError, match=message) as error:
        data.read_idx(tmp_path, "broken")
    assert str(tmp_path / "broken") in str(error.value)


def test_a_corrupt_gzip_file_is_named(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"x" * 100)[:20])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is a corrupt gzip file"):
        data.read_idx(tmp_path, "train-images-idx3-ubyte")


@pytest.mark.parametrize("change, message", [
    ("fewer_labels", "has 7 images but train-labels-idx1-ubyte has 6 labels"),
    ("label_too_big", "has label 12, expected 0..9"),
    ("flat_images", r"must hold \(N, H, W\) images"),
])
def test_inconsistent_mnist_files_are_rejected(tmp_path, change, message):
    arrays = write_mnist(tmp_path)
    images, labels = arrays["train"]
    if change == "fewer_labels":
        (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels[:-1]))
    elif change == "label_too_big":
        (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(7, 12)))
    else:
        (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(images.reshape(7, -1)))
    with pytest.raises(DataError, match=message):
        data.mnist(tmp_path)


def test_cifar_batches_are_read_back_in_rgb_planes(tmp_path):
    written = write_cifar(tmp_path)
    splits = data.cifar10(tmp_path, val_fraction=0.25)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (15, 5, 4)
    test = written[data.CIFAR_TEST]
    image = splits.test.tensors[0][2].numpy() * 255
    np.testing.assert_allclose(image[0], test[b"data"][2, :1024].reshape(32, 32), atol=1e-4)
    np.testing.assert_allclose(image[2, 0, :5], test[b"data"][2, 2048:2053], atol=1e-4)
    np.testing.assert_array_equal(splits.test.tensors[1].numpy(), test[b"labels"])
    assert splits.classes[0] == "airplane" and splits.image_shape == (3, 32, 32)


def test_a_missing_cifar_batch_is_named(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DataError, match=r"missing .*data_batch_3.*cs\.toronto\.edu"):
        data.load("cifar10", tmp_path)


@pytest.mark.parametrize("content, message", [
    (b"not a pickle", "is not a CIFAR-10 python batch"),
    (pickle.dumps({b"labels": [1]}, protocol=2), "is not a CIFAR-10 python batch .KeyError"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}),
     r"data must be \(N, 3072\) uint8"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}),
     "expected 2 labels in 0..9"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}),
     r"expected 2 labels in 0..9, got shape \(1,\)"),
])
def test_corrupt_cifar_batches_are_rejected(tmp_path, content, message):
    (tmp_path / "test_batch").write_bytes(content)
    with pytest.raises(DataError, match=message) as error:
        data.read_cifar_batch(tmp_path / "test_batch")
    assert "test_batch" in str(error.value)


class RunsCode:
    def __reduce__(self):
        return (print, ("a data file ran code",))


def test_a_cifar_batch_cannot_run_code(tmp_path, capsys):
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": RunsCode()}))
    with pytest.raises(DataError, match="refusing to load builtins.print"):
        data.read_cifar_batch(tmp_path / "test_batch")
    assert "ran code" not in capsys.readouterr().out


def test_load_names_the_data_sets_and_needs_a_folder_for_real_ones():
    with pytest.raises(ValueError, match="unknown data set 'imagenet'"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="pass data_dir .*cs.toronto.edu"):
        data.load("cifar10")


def test_normalize_is_per_channel():
    rng = np.random.default_rng(0)
    images = torch.tensor(rng.normal(3, 2, (6, 3, 4, 5)), dtype=torch.float32)
    mean, std = data.channel_stats(images)
    out = data.normalize(images, mean, std)
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(out.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-5)
    assert torch.allclose(out[:, 1], (images[:, 1] - mean[1]) / std[1])


@pytest.mark.parametrize("mean, std, message", [
    ([0.5], [0.2, 0.2, 0.2], "one value per channel"), ([0, 0, 0], [1, 0, 1], "std must be positive")])
def test_normalize_rejects_bad_statistics(mean, std, message):
    with pytest.raises(ValueError, match=message):
        data.normalize(torch.zeros(1, 3, 2, 2), torch.tensor(mean), torch.tensor(std))


def test_standardize_uses_training_statistics_only():
    splits = data.digits()
    normalized, (mean, std) = data.standardize(splits)
    train = normalized.train.tensors[0]
    assert abs(train.mean()) < 1e-5 and abs(train.std() - 1) < 1e-4
    assert torch.allclose(normalized.test.tensors[0], (splits.test.tensors[0] - mean) / std)
    assert abs(normalized.test.tensors[0].mean()) > 1e-4  # the test set has its own statistics


def test_random_crop_shifts_each_image_within_the_padding():
    images = torch.arange(2 * 3 * 5 * 6, dtype=torch.float32).reshape(2, 3, 5, 6) + 1
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    out = data.random_crop(images, 2, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    for image, original in zip(out, padded):
        windows = [original[:, t:t + 5, l:l + 6] for t in range(5) for l in range(6 - 1)]
        assert any(torch.equal(image, window) for window in windows)
    offsets = set()
    for seed in range(30):
        crop = data.random_crop(images[:1], 2, torch.Generator().manual_seed(seed))[0]
        offsets |= {(t, l) for t in range(5) for l in range(5)
                    if torch.equal(crop, padded[0, :, t:t + 5, l:l + 6])}
    assert len(offsets) > 10, "offsets are drawn over the whole range"
    assert torch.equal(data.random_crop(images, 0), images)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        data.random_crop(images, -1)


def test_random_horizontal_flip():
    images = torch.randn(200, 2, 3, 4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(data.random_horizontal_flip(images, p=0), images)
    assert torch.equal(data.random_horizontal_flip(images, p=1), images.flip(3))
    out = data.random_horizontal_flip(images, p=0.5, generator=torch.Generator().manual_seed(1))
    flipped = torch.tensor([torch.equal(o, i.flip(2)) for o, i in zip(out, images)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, images)])
    assert torch.all(flipped ^ kept) and 70 < flipped.sum() < 130
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        data.random_horizontal_flip(images, p=1.5)
