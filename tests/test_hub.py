"""`hf:` data specs: Hugging Face datasets (saved locally here, since tests run offline)."""

from __future__ import annotations

import pytest

from lookright.data.readers import read_data
from lookright.errors import DataError


@pytest.fixture()
def saved_dataset(tmp_path):
    import datasets
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER"])),
        }
    )
    split = datasets.Dataset.from_dict(
        {"tokens": [["Peter", "Blackburn", "spoke"], ["Nobody"]], "ner_tags": [[1, 2, 0], [0]]}, features=features
    )
    datasets.DatasetDict({"train": split}).save_to_disk(tmp_path / "ds")
    return tmp_path / "ds"


def test_class_label_ids_become_tag_names(saved_dataset):
    sentences = read_data(f"hf:{saved_dataset}:train", label_column="ner_tags")
    assert [s.tokens for s in sentences] == [["Peter", "Blackburn", "spoke"], ["Nobody"]]
    assert sentences[0].tags == ["B-PER", "I-PER", "O"]
    assert sentences[1].where.endswith(":train:2")


def test_missing_fields_and_splits_are_clear_errors(saved_dataset):
    with pytest.raises(DataError, match="no 'pos_tags' field"):
        read_data(f"hf:{saved_dataset}:train", label_column="pos_tags")
    with pytest.raises(DataError, match="split 'test' not in"):
        read_data(f"hf:{saved_dataset}:test", label_column="ner_tags")
    with pytest.raises(DataError, match="name the tag field"):
        read_data(f"hf:{saved_dataset}:train", label_column=-1)


def test_a_missing_label_id_is_an_error_not_the_last_label(tmp_path):
    """datasets marks a missing ClassLabel as -1, which Python's indexing read as the last name (I-PER)."""
    import datasets

    features = datasets.Features({
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER"])),
    })
    split = datasets.Dataset.from_dict({"tokens": [["Peter"], ["Blackburn", "spoke"]], "ner_tags": [[1], [-1, 0]]},
                                       features=features)
    datasets.DatasetDict({"train": split}).save_to_disk(tmp_path / "ds")
    with pytest.raises(DataError, match=r":2: row 2: ner_tags\[0\] is -1, not one of the 3 label ids"):
        read_data(f"hf:{tmp_path / 'ds'}:train", label_column="ner_tags")
