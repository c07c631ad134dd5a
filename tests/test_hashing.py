"""profond.layers.Hashing and the two hashes under it.

Keras runs this layer on TensorFlow, which is not installed here: the oracles are the hashes'
published test vectors (FarmHash's self-test in farmhash.cc for farmhashna::Hash64, the
SipHash reference's vectors.h), TensorFlow's documented examples of to_hash_bucket_fast and
to_hash_bucket_strong, and Keras's documented examples of the layer."""

import json

import numpy as np
import pytest

from profond import layers, saving
from profond.layers import Hashing
from profond.layers._string_hashes import fingerprint64, siphash24

# farmhashna::Hash64 of data[i * i : i * i + i], i = 0 .. 298 (the uint32 halves of the
# third pair of each row of farmhashnaTest's expected[] in farmhash.cc)
FARMHASH_SWEEP = [
    0x9ae16a3b2f90404f, 0x541150e87f415e96, 0x0f3786a4b25827c1, 0xef923a7a1af78eab,
    0x11df592596f41d88, 0x831f448bdc5600b3, 0x3eca803e70304894, 0x1b5a063fb4c7f9f1,
    0xa0f10149a0e538d6, 0xfb8d9c70660b910b, 0x236827beae282a46, 0xc385e435136ecf7c,
    0xe3f6828b6017086d, 0x851fff285561dca0, 0x61152a63595a96d9, 0x44473e03be306c88,
    0x03ead5f21d344056, 0x6abbfde37ee03b5b, 0x0943e7ed63b3c080, 0xd72ce05171ef8a1a,
    0x4182832b52d63735, 0xd6cdae892584a2cb, 0x5c8e90bc267c5ee4, 0xbbd7f30ac310a6f3,
    0x36a097aa49519d97, 0x0dc78cb032c49217, 0x441593e0da922dfe, 0x2ba3883d71cc2133,
    0xf2b6d2adf8423600, 0x38fffe7f3680d63c, 0xb7477bf0b9ce37c6, 0x55bdb0e71e3edebd,
    0x0782fa1b08b475e7, 0x09deb3da5e16b5b8, 0x0ee347d647f95396, 0x02ccf9db44ffcadc,
    0xd76f044822fad20b, 0x4565c9a1f6cf7563, 0xde0ec95b0dd50728, 0x1e916689df731452,
    0x01596fbb269fb44e, 0x3d0cc12df012fdc6, 0x18871267759f9e9e, 0xcf1fd8413d56223a,
    0x2324170a136a5d06, 0x0f5a57eadc6c581d, 0x896893fc0b705345, 0xc59c4e1a7f4fe221,
    0x01601bbbc1db4a56, 0x2784c6a7cd48179e, 0x7e1714daf34531b9, 0x52364482fbd72b69,
    0xda99dc3d65ec5ea5, 0xa26c6862d8f398cf, 0x9340980e344ed13a, 0xed560843e0444b29,
    0x434da74b2ba4e026, 0xc0a50b576285052c, 0x84bf2c6955012dda, 0x52a098bd016ec185,
    0x5f4a05c2bb909857, 0x2c1aa859228c620a, 0xe8a86180173c94bd, 0xa8edbff858475437,
    0xdef74bf4c9f1bc1b, 0x3cceab392bc39b3f, 0x9b97f76002f66a94, 0x546d5de7a7d7751b,
    0x37da9fddb4f01efe, 0xdd3551cc9c9ab11e, 0xdabb0d9d0fb2a854, 0xd47e7c1f46fcdf8a,
    0xa3c3d1c8f623c250, 0x875e2c13b2660e08, 0x2f70bfc44293f142, 0x37df2a50500cd289,
    0x4587b6d460c6a7e8, 0xa23934f5737eac9d, 0x06d4e97f38e8852f, 0x68b80257af01bc8f,
    0x93ffa56c72e1911a, 0x63b3f14a80122fe7, 0x9d215fcb4fc187c3, 0x4f94edba7c40f003,
    0xa3ba25f225f1fd77, 0x7bbd7dbb185c99dc, 0x8930e3bea0728443, 0x9bcfd4da75c02684,
    0xd25f7d5d58d4a1fb, 0xfe9e6f6e71de6b5a, 0xded448f29841dad8, 0x85628801a71635fe,
    0x7702ef00320a3339, 0xd3463da3e9055e34, 0xd9eb18e531eadb52, 0x1a1ccdba1ce27666,
    0x1262318f0fffe11e, 0xfcf0dc0da9df5e16, 0xafbacd177d4af13b, 0x677366425bbd9874,
    0x05ad36f677825ce0, 0x557388ca06f3e5e4, 0x3488c3fe80b25222, 0x14077c2e7841d062,
    0x384fa4dc64ff2808, 0x0f81ff041e23cacb, 0xdde4877c5a1136c1, 0x41caf1407c857f51,
    0x93860b2842c21cda, 0xa967a32bf028cacb, 0xe6da7d91081d01ce, 0x654b958a53a7cffe,
    0x6b9d5fac98b5ffd2, 0xfe9f80a8b710e6b2, 0x1b638d942dfd90d5, 0x0b0a6d75f06216c7,
    0xd16349711264a197, 0xfd5405d898ed2c27, 0x0251eff2e0bd17e6, 0xb8c5b1d44acf10e6,
    0x8cdf28220346651c, 0x97173f7590fbe61b, 0xa3693d5d4c5949c0, 0x4c5b2ceb42d743c5,
    0x7ecff84a2a815e39, 0x7da8621937411360, 0xf672649174c36ae1, 0x99096f55f2e75eb0,
    0xf4a9a248b462909d, 0xd4f7c858d78153b6, 0x5be83a9fb802c999, 0x3321995895ed07e1,
    0xa77a9d501b6eaae6, 0x74454dd17b5dee37, 0x41f355151543772f, 0xda4f403068577213,
    0x3b237c5bc9b4077e, 0x060130be1aebbc74, 0xd99408e78e772416, 0x7c80110a09cc95b8,
    0xa3f9bcb8695ea709, 0xcd1b9114c616cec1, 0xa45476a60c5d19bd, 0x9ddbccff8cb0dc04,
    0x533c6ba7521f04de, 0x558a6b37418dc38b, 0xc922fb4fd321fefc, 0xf348d9e714174892,
    0x266fa1e24de39868, 0x4a114282f4ee38fa, 0xc9504fb06a97dc38, 0x62dca9b1ad8a25c7,
    0x15e051deb7113a86, 0xfeb2d313e8654393, 0x6ecde27579a058da, 0xf3095d4ad48818cc,
    0x0fdabb4c6f2311fe, 0x370422e41d3e165d, 0xe47c9ee1c3ef66ec, 0x9deb67341dcf3aac,
    0xa785317e5d12e3cf, 0xc02b580ea55a3330, 0x7d96716705bfdab6, 0x49ab9d3ffc91fbe2,
    0x1081e8e8f46dd949, 0x197ae4cafd223bf7, 0x6ecab227cf34a715, 0x155722f995ab3a2f,
    0x5b8578c8213008f8, 0x5800a84cada208d8, 0xb5e288e4f130595a, 0x6b68f3f03b086b09,
    0xf192b850ae703a07, 0xfe3a022b04e46731, 0x1bae4d46f9cb1db7, 0x2bb8767b5e66e564,
    0x6fed858ce932d9ca, 0x0085a8a5976826bd, 0x785de4d7f17e4664, 0x29c5e93963df0602,
    0xba96a19c1827a663, 0x84903b30f2af686a, 0x877259502fe5981d, 0xef8f547ee4f85592,
    0xcc1b9b9f2e7539bc, 0xb63673f4883d092e, 0x6a48bf603112a5b6, 0xb4bb81fdf7f038fd,
    0xcbe7b570beab5943, 0xb32f6363f9fcd740, 0x69daeee766778578, 0x28c657f61fab27a7,
    0xb91cf320c999a8a1, 0x2e52ba77c133f42b, 0x9deef859534c3406, 0xbe5b865b306253c4,
    0xcad7bfde976e4252, 0x2ec96e6b3842fe72, 0xed879fb271ea6dbb, 0x1efdc709bda0b3a0,
    0x40f32eb90e5caa01, 0xb3ddcf97e4306889, 0x125bfd33fe0ecf41, 0xbe0542cbf1796033,
    0xf2e2d6286459e2a9, 0x0c5326bd8821d4e9, 0x8425a93914df07e5, 0x000226b470bee2af,
    0x1936427e13b4efce, 0x36c28690166f43b6, 0xcc1b5a91be020cde, 0xe5c7361072f2de62,
    0xb657b2d87db106ee, 0x50145d8785ee996b, 0x251aee6536aa2a42, 0xc4ae6490aab5af84,
    0x9e9bfc35779f33f3, 0x49bf088acd94932c, 0xc3dad9832ede538a, 0x4a31864fc27f7ddd,
    0x3add60cebf1ba980, 0x6ce7dea06a3651aa, 0x93f4b06b421cae73, 0xf9c9553043523ac7,
    0x60c8e04eca001811, 0x621d0e524565f58d, 0x3afbc2bad828d5f3, 0x5a693d7dd9ea397b,
    0xdc7727b1bc10d1e7, 0x49c168336e90d6fa, 0xeacaa55f345e81e8, 0x914c2434bc938c11,
    0x49a130134ae4712f, 0x70418de07c33d518, 0xb6c46967a527c5f0, 0x23d5e96aedf9fddb,
    0x986925e835b0396e, 0x0563048411e67e18, 0xc1f2977b2052655f, 0x4bec2a224880c794,
    0x136969eed9b76a41, 0x416bcddac2720631, 0xdcccf3e91883604b, 0xce44e3f9754730f4,
    0x35b5d7f99fe567ed, 0x2f829f48c3de0f66, 0x84506f60d7f8287d, 0xb6770e806048add8,
    0xa10c94bef7174647, 0x1ace8010a020d7ed, 0x499de2f3803fcdfb, 0x7cada474463dca99,
    0xbf8e9bee9b0e773a, 0xeeb4ee690e3d215d, 0x0b1673a38d1e3e7e, 0x74fbce74d2fe60f8,
    0x7fd20f1452dfbc03, 0xd66e58c6be0bb6f5, 0xc8ed9b3b7ab60e79, 0x45b681723322c1da,
    0x370653e1f282b7f3, 0xe303a81022a4d335, 0x7bd4badf32c2109c, 0xa68aa3a27cd5a3fa,
    0xba1ac8058cfdb3c1, 0x78a3316389d20f04, 0x247bd40c5cb683a9, 0xc5108b8165773fc1,
    0x45d166fb79c7c999, 0xdf3262333d4db4a9, 0x005d4d41c837dd5a, 0x3d11bd2872e494f2,
    0xca374e26504c25b9, 0x7bae863efa81e690, 0x29c8c794585501a8, 0x4f8fae11ab149012,
    0x3c345c932a87767d, 0xf3ba6d9fc095cd6c, 0x922ec7bd5017c305, 0x22fceef9724c5cb0,
    0xd08d8a2a0eb43abf, 0xa916f7888a1e6b29, 0x2e2c44354ca22282, 0x17a9ec77665f6489,
    0xad1e8f0ee811626c, 0x5d4abe0923d10d72, 0x439cb274c0c66080, 0x149903cb87963e0a,
    0x40536db57e881d60, 0x4a143dceeda4cd43, 0xb6b24e56b9733b9f, 0x3d04be29e04c183d,
    0x82f29a9d9d95d2fc, 0xfa6c1ed6fbba1f2b, 0x1172c3eb54e402e1, 0xae78bb983e7ba6ff,
    0x946f7a74f44805c0, 0xeb5dead213fea974, 0x2031c84bc57a1a9f,
]
# farmhashna::Hash64 of data[:n], the longer lengths of the same self-test
FARMHASH_LONG = {
    299: 0xcc79d4ba95da7979, 341: 0x902d34061d0c9b0d, 389: 0x43b6d221b3111645,
    444: 0xf4edef10db556f29, 507: 0xd23a1f4d446476b6, 579: 0xc537780b6fc3a700,
    661: 0xfb687f7817e37c58, 755: 0x098ecbed8fd618bd, 862: 0x6e771631bed6b1bd,
    985: 0xdb5d1814fec5e834, 1125: 0x436a00a70b9c1ffb, 1285: 0xcd0b9e228116aad2,
    1468: 0xb9283aba3478a00f, 1677: 0x553997940f08b9ba, 1916: 0xd7fc9e2ce6a87ccf,
    2189: 0x9570d22d62e5b76a, 2501: 0xba108e8ee785d862, 2858: 0x9b94c379263d7fe1,
    3266: 0x139e088b074371ea, 3732: 0x387e353d76c492eb, 4265: 0xb5d71307a4ed9c93,
    4874: 0x25635f216bb32ec7, 5570: 0x22cfe733f6eabdf4, 6365: 0xc24bd5b02665493b,
    7274: 0xb5fa553ba950da75, 8313: 0x85cf1e78f1d848e8, 9500: 0x340f5b7791e4548f,
    10857: 0x4987ca0380f3d80f, 12408: 0x95edf617b8cd85fc, 14180: 0x1c08973b9ade51d4,
    16205: 0x32b4281dd7eaa585, 18520: 0xa5d0883f38405227,
}
# vectors_sip64 of the reference implementation (vectors.h), read as little-endian words:
# SipHash-2-4 under the key 00 01 .. 0f of the messages 00 01 .. (n - 1), n = 0 .. 63
SIPHASH_VECTORS = [
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
]


def _farmhash_self_test_data(size):
    """The pseudo-random bytes of farmhash.cc's Setup() (its self-test input)."""
    mask, k0 = (1 << 64) - 1, 0xC3A5C85C97CB3127
    a, b = 9, 777
    out = bytearray(size)
    for i in range(size):
        a = (a + b) & mask
        b = (b + a) & mask
        a = ((a ^ (a >> 41)) * k0) & mask
        b = ((b ^ (b >> 41)) * k0 + i) & mask
        out[i] = (b >> 37) & 0xFF
    return bytes(out)


@pytest.fixture(scope="module")
def farm_data():
    return _farmhash_self_test_data(298 * 298 + 298)


# --- the hashes against their published vectors ------------------------------------------------
def test_fingerprint64_matches_farmhash_self_test_for_every_length_to_298(farm_data):
    # lengths 0-16, 17-32, 33-64 and > 64 (one to four 64-byte blocks), each at its own offset
    got = fingerprint64([farm_data[i * i:i * i + i] for i in range(299)])
    assert [int(h) for h in got] == FARMHASH_SWEEP


def test_fingerprint64_matches_farmhash_self_test_on_long_inputs(farm_data):
    got = fingerprint64([farm_data[:n] for n in FARMHASH_LONG])
    assert [int(h) for h in got] == list(FARMHASH_LONG.values())


def test_fingerprint64_of_a_batch_equals_each_string_alone(farm_data):
    strings = [farm_data[i:i + n] for i, n in enumerate([0, 3, 3, 9, 70, 9, 200, 3])]
    batch = fingerprint64(strings)
    assert [int(h) for h in batch] == [int(fingerprint64([s])[0]) for s in strings]
    assert batch.dtype == np.uint64 and fingerprint64([]).shape == (0,)


def test_siphash24_matches_the_reference_vectors():
    key = (int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little"))
    got = siphash24([bytes(range(n)) for n in range(64)], key)
    assert [int(h) for h in got] == SIPHASH_VECTORS


def test_tensorflow_documented_hash_buckets():
    # tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3) -> [0, 2, 2]
    assert (fingerprint64([b"Hello", b"TensorFlow", b"2.x"]) % np.uint64(3)).tolist() == [0, 2, 2]
    # tf.strings.to_hash_bucket_strong(["Hello", "TF"], 3, [1, 2]) -> [2, 0]
    assert (siphash24([b"Hello", b"TF"], (1, 2)) % np.uint64(3)).tolist() == [2, 0]


# --- Keras's documented examples ---------------------------------------------------------------
KERAS_INPUT = [["A"], ["B"], ["C"], ["D"], ["E"]]


@pytest.mark.parametrize("kwargs, inputs, expected", [
    ({}, KERAS_INPUT, [[1], [0], [1], [1], [2]]),
    ({"mask_value": ""}, [["A"], ["B"], [""], ["C"], ["D"]], [[1], [1], [0], [2], [2]]),
    ({"salt": [133, 137]}, KERAS_INPUT, [[1], [2], [1], [0], [2]]),
    ({"salt": 133}, KERAS_INPUT, [[0], [0], [2], [1], [0]]),
])
def test_keras_documented_examples(kwargs, inputs, expected):
    out = Hashing(num_bins=3, **kwargs)(inputs)
    assert out.dtype == np.int64
    assert out.numpy().tolist() == expected


def test_an_int_salt_is_the_pair_of_it():
    assert Hashing(7, salt=133).salt == [133, 133]
    np.testing.assert_array_equal(Hashing(7, salt=133)(["x", "y", "z"]).numpy(),
                                  Hashing(7, salt=(133, 133))(["x", "y", "z"]).numpy())


# --- inputs ------------------------------------------------------------------------------------
def _bins(num_bins, strings, salt=None):
    raw = [s.encode() for s in strings]
    hashes = fingerprint64(raw) if salt is None else siphash24(raw, salt)
    return (hashes % np.uint64(num_bins)).astype(np.int64)


def test_integers_are_hashed_as_their_decimal_strings():
    ints = np.array([[0, 7, -12], [123456789012, 5, 42]], dtype=np.int64)
    expected = _bins(11, ["0", "7", "-12", "123456789012", "5", "42"]).reshape(2, 3)
    for form in (ints, ints.astype(np.int32), ints.tolist()):
        np.testing.assert_array_equal(Hashing(11)(form).numpy(), expected)
    np.testing.assert_array_equal(Hashing(11, salt=9)(ints).numpy(),
                                  _bins(11, ["0", "7", "-12", "123456789012", "5", "42"],
                                        (9, 9)).reshape(2, 3))


def test_floats_are_cast_to_integers_first_as_keras_does():
    np.testing.assert_array_equal(Hashing(11)(np.array([1.7, -1.7, 3.0])).numpy(),
                                  _bins(11, ["1", "-1", "3"]))


def test_strings_bytes_and_arrays_agree_in_any_shape():
    words = ["the", "cat", "", "sat", "on", "a", "mat", "déjà"]
    expected = _bins(5, words).reshape(2, 2, 2)
    forms = [np.array(words).reshape(2, 2, 2), np.array(words, dtype=object).reshape(2, 2, 2),
             [[[w.encode() for w in words[i:i + 2]] for i in (j, j + 2)] for j in (0, 4)]]
    for form in forms:
        np.testing.assert_array_equal(Hashing(5)(form).numpy(), expected)
    assert Hashing(5)("cat").numpy().tolist() == _bins(5, ["cat"])[0]


def test_bytes_keep_their_trailing_nul():
    assert Hashing(1 << 30)([b"a\x00", b"a"]).numpy().tolist() == \
        (fingerprint64([b"a\x00", b"a"]) % np.uint64(1 << 30)).tolist()


def test_a_mask_value_takes_bin_zero_and_shifts_the_others():
    words = ["a", "b", "pad", "c"]
    out = Hashing(6, mask_value="pad")(words).numpy()
    assert out[2] == 0
    np.testing.assert_array_equal(out[[0, 1, 3]], 1 + _bins(5, ["a", "b", "c"]))
    ints = Hashing(6, mask_value=0)(np.array([0, 3, 0, 8])).numpy()
    np.testing.assert_array_equal(ints, [0, 1 + _bins(5, ["3"])[0], 0, 1 + _bins(5, ["8"])[0]])
    # a string never equals a number: "0" is hashed
    assert Hashing(6, mask_value=0)(["0"]).numpy()[0] == 1 + _bins(5, ["0"])[0]


def test_a_value_that_cannot_be_hashed_is_refused():
    with pytest.raises(ValueError, match=r"must be strings, bytes, integers or finite floats\. "
                                         r"Got nan"):
        Hashing(3)(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="Got None"):
        Hashing(3)(np.array(["a", None], dtype=object))


# --- output modes ------------------------------------------------------------------------------
def test_output_modes():
    words = [["a", "b", "a"], ["c", "c", "c"]]
    ids = Hashing(4)(words).numpy()
    one_hot = Hashing(4, output_mode="one_hot")(words).numpy()
    assert one_hot.shape == (2, 3, 4) and one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot.argmax(-1), ids)
    count = Hashing(4, output_mode="count")(words).numpy()
    np.testing.assert_array_equal(count, one_hot.sum(axis=1))
    np.testing.assert_array_equal(Hashing(4, output_mode="multi_hot")(words).numpy(),
                                  (count > 0).astype(np.float32))
    # a last axis of one is replaced by the one-hot axis, as Keras does
    assert Hashing(4, output_mode="one_hot")([["a"], ["b"]]).shape == (2, 4)
    assert Hashing(4, output_mode="one_hot", dtype="float64")("a").numpy().dtype == np.float64


@pytest.mark.parametrize("mode, shape", [
    ("int", (2, 3)), ("int", ()), ("one_hot", (2, 3)), ("one_hot", (2, 1)), ("one_hot", (3,)),
    ("one_hot", ()), ("multi_hot", (2, 3)), ("multi_hot", (4, 2, 3)), ("count", (3,)),
    ("count", ()),
])
def test_compute_output_shape_is_the_output_shape(mode, shape):
    layer = Hashing(5, output_mode=mode)
    words = np.array([f"w{i}" for i in range(int(np.prod(shape)))]).reshape(shape)
    assert layer(words).shape == layer.compute_output_shape(shape)


def test_int_dtype_follows_the_layer():
    assert Hashing(5, dtype="int32")(["a"]).dtype == np.int32
    with pytest.raises(ValueError, match=r"'dtype' parameter of Hashing must be 'int32' or "
                                         r"'int64' with output_mode='int'. Got 'float32'"):
        Hashing(5, dtype="float32")
    with pytest.raises(ValueError, match=r"'dtype' parameter of Hashing must be a dtype name"):
        Hashing(5, dtype=3.5)


# --- symbolic calls ----------------------------------------------------------------------------
def test_in_a_functional_model_on_integer_features():
    from profond.models import Model

    inputs = layers.Input(shape=(3,), dtype="int64")
    outputs = Hashing(8, output_mode="count")(inputs)
    assert outputs.shape == (None, 8)
    x = np.array([[1, 1, 5], [7, 2, 2]])
    np.testing.assert_array_equal(Model(inputs, outputs).predict(x, verbose=0),
                                  Hashing(8, output_mode="count")(x).numpy())


def test_trains_saves_and_loads_in_a_sequential_model(tmp_path):
    import profond
    from profond.models import Sequential

    x = np.random.default_rng(0).integers(0, 50, size=(64, 1))
    y = (x[:, 0] % 2).astype("float32")
    model = Sequential([layers.Input(shape=(1,), dtype="int64"),
                        Hashing(16, output_mode="one_hot", salt=5), layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.safetensors")
    loaded = profond.load_model(tmp_path / "m.safetensors")
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# --- config ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"salt": 7, "mask_value": "pad"},
                                    {"salt": [1, -2], "output_mode": "multi_hot"},
                                    {"mask_value": 0, "output_mode": "count"}])
def test_config_round_trip(kwargs):
    layer = Hashing(9, name="h", **kwargs)
    config = layer.get_config()
    assert {k: config[k] for k in ("num_bins", "mask_value", "output_mode", "sparse")} == {
        "num_bins": 9, "mask_value": kwargs.get("mask_value"),
        "output_mode": kwargs.get("output_mode", "int"), "sparse": False}
    if "output_mode" not in kwargs:
        assert config["dtype"] == "int64"
    clone = saving.deserialize_keras_object(
        json.loads(json.dumps(saving.serialize_keras_object(layer))))
    assert clone.get_config() == config
    words = ["a", "pad", "b", "c"]
    out = clone(words).numpy()
    assert out.dtype == (np.int64 if "output_mode" not in kwargs else np.float32)
    np.testing.assert_array_equal(out, layer(words).numpy())


def test_keras_config_loads():
    # the config Keras 3.15.1 writes for Hashing(num_bins=3, salt=133)
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "int64"},
              "registered_name": None}
    keras_config = {"name": "hashing", "trainable": True, "dtype": policy, "num_bins": 3,
                    "salt": [133, 133], "mask_value": None, "output_mode": "int",
                    "sparse": False}
    layer = Hashing.from_config(keras_config)
    out = layer(KERAS_INPUT).numpy()
    assert out.ravel().tolist() == [0, 0, 2, 1, 0] and out.dtype == np.int64
    assert layer.get_config()["salt"] == [133, 133]


# --- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"num_bins": 0}, r"'num_bins' parameter of Hashing must be an int in \[1, inf\). Got 0"),
    ({"num_bins": 2.5}, r"'num_bins' parameter of Hashing must be an int .* Got 2.5"),
    ({"num_bins": 1, "mask_value": ""}, r"'num_bins' .* must be an int in \[2, inf\). Got 1"),
    ({"num_bins": 3, "salt": "key"}, r"'salt' parameter of Hashing must be an int, a pair"),
    ({"num_bins": 3, "salt": [1, 2, 3]}, r"'salt' parameter .* Got \[1, 2, 3\]"),
    ({"num_bins": 3, "salt": 1 << 64}, r"'salt' parameter"),
    ({"num_bins": 3, "salt": True}, r"'salt' parameter"),
    ({"num_bins": 3, "sparse": True}, r"'sparse' parameter of Hashing must be False"),
    ({"num_bins": 3, "output_mode": "tf_idf"},
     r"'output_mode' parameter of Hashing must be one of \['int', 'one_hot'"),
    ({"num_bins": 3, "mask_value": [1]}, r"'mask_value' parameter of Hashing must be a string"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Hashing(**kwargs)
