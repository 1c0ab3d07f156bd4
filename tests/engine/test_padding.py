"""The shared left padding and end-token cut (engine.padding), by hand-built examples."""

from types import SimpleNamespace

import torch

from engine.padding import cut_at_end, left_pad, pad_token_id, real_positions


def test_rows_sit_at_the_right_end_after_the_pad_id():
    input_ids, attention = left_pad([[5, 6, 7], [8], [9, 10]], pad_id=3)
    assert input_ids.dtype == attention.dtype == torch.long
    assert input_ids.tolist() == [[5, 6, 7], [3, 3, 8], [3, 9, 10]]
    assert attention.tolist() == [[1, 1, 1], [0, 0, 1], [0, 1, 1]]


def test_rows_of_one_length_are_not_padded():
    input_ids, attention = left_pad([[1, 2], [3, 4]], pad_id=0)
    assert input_ids.tolist() == [[1, 2], [3, 4]]
    assert attention.tolist() == [[1, 1], [1, 1]]


def test_positions_count_real_tokens_only():
    _, attention = left_pad([[5, 6, 7], [8], [9, 10]], pad_id=0)
    assert real_positions(attention).tolist() == [[0, 1, 2], [0, 0, 0], [0, 0, 1]]


def test_pad_id_is_the_tokenizers_else_zero():
    assert pad_token_id(SimpleNamespace(pad_token_id=7)) == 7
    assert pad_token_id(SimpleNamespace(pad_token_id=None)) == 0


def test_cut_keeps_the_first_end_token_and_what_precedes_it():
    assert cut_at_end([4, 5, 2, 6, 2], {2}, limit=5) == ([4, 5, 2], False)
    assert cut_at_end([4, 9, 5, 2], {2, 9}, limit=5) == ([4, 9], False)  # any end id stops
    assert cut_at_end([2, 4, 5], {2}, limit=3) == ([2], False)


def test_without_an_end_token_the_cut_is_at_the_limit_and_truncated():
    assert cut_at_end([4, 5, 6, 7], {2}, limit=3) == ([4, 5, 6], True)
    assert cut_at_end([4, 5], {2}, limit=3) == ([4, 5], True)
    assert cut_at_end([], {2}, limit=3) == ([], True)
