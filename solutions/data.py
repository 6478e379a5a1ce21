"""Image classification data as tensors: an embedded default and loaders for local files.

Every data set comes as :class:`Splits`, three ``TensorDataset``s of float images in [0, 1],
laid out (N, C, H, W), and int64 labels. ``digits`` needs nothing but scikit-learn; MNIST,
Fashion-MNIST and CIFAR-10 are read from a folder that holds the files their authors publish,
parsed here (IDX and pickled CIFAR batches) with every size and magic number checked.
"""

import gzip
import io
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

#: Where to get each data set's files, named in every "missing file" message.
SOURCES = {
    "mnist": "https://yann.lecun.com/exdb/mnist/ (or any mirror of its four files)",
    "fashion-mnist": "https://github.com/zalandoresearch/fashion-mnist (folder data/fashion)",
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar.html "
               "(cifar-10-python.tar.gz, extracted)",
}
MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
CIFAR_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR_TEST = "test_batch"
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(d) for d in range(10))
IDX_TYPES = {0x08: np.uint8}  # the IDX type codes MNIST uses; others are not image data
DIGITS_SIZE = 28  # upsample the 8x8 digits to MNIST's 28x28, so one LeNet fits both


class DataError(ValueError):
    """A data file is missing or not what it should be; the message says which and why."""


@dataclass
class Splits:
    """Train, validation and test sets of one data set, and its class names."""

    train: TensorDataset
    val: TensorDataset
    test: TensorDataset
    classes: tuple

    @property
    def image_shape(self):
        """(C, H, W) of one image."""
        return tuple(self.train.tensors[0].shape[1:])


def split(images, labels, fractions, seed=0):
    """Shuffle with a fixed seed and cut into one ``TensorDataset`` per fraction.

    images: (N, C, H, W), labels: (N,); fractions of N (e.g. train, val, test) summing to 1.
    Raises ValueError if the fractions do not sum to 1 or leave a split empty.
    """
    if not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"split fractions must sum to 1, got {fractions}")
    n = len(labels)
    sizes = [round(f * n) for f in fractions[:-1]]
    sizes.append(n - sum(sizes))
    if min(sizes) < 1:
        raise ValueError(f"{n} examples cannot be split into {fractions}: a split is empty")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return [TensorDataset(images[part], labels[part]) for part in torch.split(order, sizes)]


def digits(size=DIGITS_SIZE, seed=0):
    """scikit-learn's 1797 handwritten digits, 8x8 in 0..16, upsampled to size x size.

    Returns Splits (70/15/15 %, shuffled with ``seed``) of (N, 1, size, size) images in [0, 1].
    Bilinear interpolation only spreads the 64 pixels smoothly over the bigger grid: it adds
    no detail, but lets a network built for 28x28 MNIST run unchanged.
    """
    from sklearn.datasets import load_digits

    raw = load_digits()
    images = torch.tensor(raw.images, dtype=torch.float32)[:, None] / 16.0
    images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    labels = torch.tensor(raw.target, dtype=torch.int64)
    train, val, test = split(images.clamp(0, 1), labels, (0.7, 0.15, 0.15), seed)
    return Splits(train, val, test, DIGIT_CLASSES)


def _open_bytes(folder, name, dataset):
    """The bytes of ``folder/name`` or ``folder/name.gz`` (decompressed); DataError if absent."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":  # gzip's magic number, whatever the file is called
                try:
                    data = gzip.decompress(data)
                except (OSError, EOFError) as error:
                    raise DataError(f"{path} is a corrupt gzip file ({error}); "
                                    f"download it again from {SOURCES[dataset]}") from None
            return path, data
    raise DataError(f"{dataset}: missing {folder / name} (or {name}.gz); "
                    f"download it from {SOURCES[dataset]}")


def parse_idx(data, path="IDX data"):
    """Parse the bytes of an IDX file (MNIST's format) into a NumPy array.

    Layout: magic = two zero bytes, a type code (0x08: unsigned byte) and the number of
    dimensions d; then d big-endian int32 sizes; then the values, row-major.
    Raises DataError for a wrong magic number, an unknown type or a size that does not match.
    """
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in IDX_TYPES:
        raise DataError(f"{path} is not an IDX file of unsigned bytes "
                        f"(magic number {data[:4].hex() or 'missing'}, expected 0000 08 0d)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise DataError(f"{path}: IDX header says shape {shape} ({expected} bytes) "
                        f"but the file has {len(data)} bytes")
    return np.frombuffer(data, dtype=IDX_TYPES[data[2]], offset=header).reshape(shape)


def read_idx(folder, name, dataset="mnist"):
    """Read ``folder/name`` (or ``name.gz``) as an IDX array; DataError names the file."""
    path, data = _open_bytes(Path(folder), name, dataset)
    return parse_idx(data, path)


def _mnist_part(folder, part, dataset):
    """Images (N, 1, 28, 28) in [0, 1] and labels (N,) of MNIST's train or test files."""
    image_file, label_file = MNIST_FILES[part]
    images, labels = read_idx(folder, image_file, dataset), read_idx(folder, label_file, dataset)
    if images.ndim != 3 or labels.ndim != 1:
        raise DataError(f"{dataset}: {image_file} must hold (N, H, W) images and {label_file} "
                        f"(N,) labels, got shapes {images.shape} and {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{dataset}: {image_file} has {len(images)} images but {label_file} "
                        f"has {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise DataError(f"{dataset}: {label_file} has label {labels.max()}, expected 0..9")
    return (torch.tensor(images, dtype=torch.float32)[:, None] / 255.0,
            torch.tensor(labels, dtype=torch.int64))


def mnist(folder, dataset="mnist", seed=0, val_fraction=1 / 6):
    """MNIST or Fashion-MNIST from the four IDX files in ``folder`` (gzipped or not).

    The published test set is the test split; ``val_fraction`` of the training set, drawn with
    ``seed``, is held out for validation. Images (N, 1, 28, 28) in [0, 1].
    """
    train_images, train_labels = _mnist_part(folder, "train", dataset)
    test_images, test_labels = _mnist_part(folder, "test", dataset)
    train, val = split(train_images, train_labels, (1 - val_fraction, val_fraction), seed)
    classes = FASHION_CLASSES if dataset == "fashion-mnist" else DIGIT_CLASSES
    return Splits(train, val, TensorDataset(test_images, test_labels), classes)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickle only dicts, lists, bytes and NumPy arrays: a data file must not run code."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"),
               ("_codecs", "encode")}  # how protocol 2 pickles bytes under Python 3

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_cifar_batch(path):
    """One pickled CIFAR-10 batch: images (N, 3, 32, 32) uint8 and labels (N,) int64.

    The file is a pickled dict with b"data", an (N, 3072) uint8 array (1024 red, then green,
    then blue values, each row-major 32x32), and b"labels", N ints in 0..9.
    Raises DataError naming the file if it is missing or not such a batch.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"cifar10: missing {path}; download it from {SOURCES['cifar10']}")
    try:
        batch = _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
        data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    except Exception as error:  # a corrupt pickle raises many types
        raise DataError(f"{path} is not a CIFAR-10 python batch ({type(error).__name__}: "
                        f"{error}); download it again from {SOURCES['cifar10']}") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: data must be (N, 3072) uint8, got {data.shape} {data.dtype}")
    if labels.shape != (len(data),) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise DataError(f"{path}: expected {len(data)} labels in 0..9, got shape {labels.shape}")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def cifar10(folder, seed=0, val_fraction=0.1):
    """CIFAR-10 from ``folder`` (``cifar-10-batches-py``): data_batch_1..5 and test_batch.

    Returns Splits of (N, 3, 32, 32) images in [0, 1]; ``val_fraction`` of the five training
    batches, drawn with ``seed``, is the validation split.
    """
    def tensors(names):
        parts = [read_cifar_batch(Path(folder) / name) for name in names]
        images = np.concatenate([images for images, _ in parts])
        labels = np.concatenate([labels for _, labels in parts])
        return torch.tensor(images, dtype=torch.float32) / 255.0, torch.tensor(labels)

    train, val = split(*tensors(CIFAR_TRAIN), (1 - val_fraction, val_fraction), seed)
    return Splits(train, val, TensorDataset(*tensors([CIFAR_TEST])), CIFAR_CLASSES)


DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")


def load(name, data_dir=None, seed=0):
    """The data set ``name`` (one of DATASETS); all but digits read from ``data_dir``."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}: choose one of {', '.join(DATASETS)}")
    if name == "digits":
        return digits(seed=seed)
    if data_dir is None:
        raise ValueError(f"{name} is read from a local folder: pass data_dir (--data-dir); "
                         f"get the files from {SOURCES[name]}")
    if name == "cifar10":
        return cifar10(data_dir, seed=seed)
    return mnist(data_dir, dataset=name, seed=seed)


def channel_stats(images):
    """Per-channel mean and standard deviation of images (N, C, H, W): two (C,) tensors."""
    return images.mean(dim=(0, 2, 3)), images.std(dim=(0, 2, 3))


def normalize(images, mean, std):
    """(images - mean) / std per channel; images (N, C, H, W), mean and std (C,)."""
    mean, std = torch.as_tensor(mean), torch.as_tensor(std)
    if mean.shape != (images.shape[1],) or std.shape != (images.shape[1],):
        raise ValueError(f"mean and std need one value per channel ({images.shape[1]}), "
                         f"got shapes {tuple(mean.shape)} and {tuple(std.shape)}")
    if (std <= 0).any():
        raise ValueError(f"std must be positive, got {std.tolist()}")
    return (images - mean[:, None, None]) / std[:, None, None]


def random_crop(images, padding, generator=None):
    """Pad each image with ``padding`` zeros per side and cut a random window of its old size.

    images: (N, C, H, W); each image gets its own offset, drawn from ``generator``. The result
    is the image shifted by up to ``padding`` pixels in each direction, zeros filling in.
    """
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    n, _, h, w = images.shape
    padded = F.pad(images, (padding,) * 4)
    top = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=generator)
    left = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=generator)
    rows = (top + torch.arange(h)[None, :, None]).expand(n, h, w)
    cols = (left + torch.arange(w)[None, None, :]).expand(n, h, w)
    batch = torch.arange(n)[:, None, None].expand(n, h, w)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


def random_horizontal_flip(images, p=0.5, generator=None):
    """Mirror each image (N, C, H, W) left-right with probability p."""
    if not 0 <= p <= 1:
        raise ValueError(f"flip probability must be in [0, 1], got {p}")
    flip = torch.rand(len(images), generator=generator) < p
    return torch.where(flip[:, None, None, None], images.flip(3), images)


def task(splits, classes, per_class=None, seed=0):
    """A smaller task: only ``classes`` (relabelled 0, 1, ...), and at most ``per_class``
    training images of each, drawn with ``seed``; validation and test keep all their images.
    """
    generator = torch.Generator().manual_seed(seed)

    def restrict(dataset, limit):
        images, labels = dataset.tensors
        keep = []
        for new, old in enumerate(classes):
            index = torch.nonzero(labels == old).flatten()
            if limit is not None:
                index = index[torch.randperm(len(index), generator=generator)][:limit]
            keep.append((index, new))
        index = torch.cat([i for i, _ in keep])
        relabelled = torch.cat([torch.full((len(i),), new) for i, new in keep])
        return TensorDataset(images[index], relabelled)

    return Splits(restrict(splits.train, per_class), restrict(splits.val, None),
                  restrict(splits.test, None), tuple(splits.classes[c] for c in classes))


def standardize(splits):
    """Normalize all three splits with the training set's per-channel mean and std.

    Returns the new Splits and (mean, std): statistics of the training data only, so that
    nothing about the validation or test images leaks into training.
    """
    mean, std = channel_stats(splits.train.tensors[0])
    sets = [TensorDataset(normalize(d.tensors[0], mean, std), d.tensors[1])
            for d in (splits.train, splits.val, splits.test)]
    return Splits(*sets, splits.classes), (mean, std)
