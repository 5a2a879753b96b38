"""What Keras's directory readers (`text_dataset_from_directory`,
`image_dataset_from_directory`) do once the files are listed: the counts printed, the seeded
shuffle of paths and labels together, and the validation split, written once for both."""
import numpy as np


def split_files(paths, found, names, *, labels, label_mode, shuffle, seed, validation_split,
                subset, verbose, who, empty, make):
    """One dataset, or (training, validation) for subset="both". `make(paths, labels,
    shuffled)` builds a dataset from its files; `empty(which)` says there are none. Keras's
    slices are kept even where a split rounds to 0 files."""
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(f"{who}: label_mode='binary' needs exactly 2 classes, found {names}")
    if verbose:
        print(f"Found {len(paths)} files." if labels is None else
              f"Found {len(paths)} files belonging to {len(names)} classes.")
    if shuffle:
        np.random.RandomState(seed).shuffle(paths)
        if found is not None:
            np.random.RandomState(seed).shuffle(found)

    def part(which, shuffled):
        count = int(validation_split * len(paths)) if validation_split else 0
        chosen = slice(None) if not validation_split else (
            slice(None, -count) if which == "training" else slice(-count, None))
        if verbose and validation_split:
            print(f"Using {len(paths[chosen])} files for {which}.")
        if not paths[chosen]:
            raise ValueError(empty(which))
        return make(paths[chosen], None if found is None else found[chosen], shuffled)

    if subset == "both":
        return part("training", shuffle), part("validation", False)
    return part(subset, shuffle)
