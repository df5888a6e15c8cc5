"""Tiny source checkpoints (plain transformers model directories) for the six families."""
from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from . import common, corpus

FIXTURES_DIR = Path("fixtures")

# Shared tiny geometry: big enough for 4 heads of 8 dims, small enough to stay far below 1 MB.
TINY = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    # Large init so that attention scores are far from uniform and a wrong mask shows.
    initializer_range=0.2,
)
# DistilBERT and ELECTRA (added later) are smaller still, so that golden/ stays under its 8 MB budget:
# hidden size 8 (2 heads of 4 dims), and a smaller WordPiece vocabulary.
SMALLER = dict(TINY, hidden_size=8, num_attention_heads=2, intermediate_size=16)
SMALLER_VOCABULARY = 150


@dataclass(frozen=True)
class Fixture:
    name: str
    family: str  # camembert | roberta | xlm-roberta | bert | distilbert | electra | albert | bart | mbart | barthez | pegasus
    architecture: str
    max_positions: int  # rows of the position table (offset rows included)
    model_max_length: int
    seed_offset: int
    note: str


FIXTURES = [
    Fixture("camembert-tiny", "camembert", "CamembertForMaskedLM", 514, 512, 100,
            "SentencePiece (unigram) CamemBERT tokenizer; the bundled checkpoint of the README"),
    Fixture("camembert-tiny-130pos", "camembert", "CamembertForMaskedLM", 132, 130, 110,
            "130 positions (+2 offset rows): exercises the random padding of the global init"),
    Fixture("roberta-tiny", "roberta", "RobertaForMaskedLM", 514, 512, 120,
            "byte-level BPE tokenizer trained with tokenizers"),
    Fixture("xlm-roberta-tiny", "xlm-roberta", "XLMRobertaForMaskedLM", 514, 512, 130,
            "SentencePiece (unigram) XLM-R tokenizer"),
    Fixture("bert-tiny", "bert", "BertForPreTraining", 512, 512, 140,
            "WordPiece tokenizer (lower case); BertForPreTraining with pooler and NSP head"),
    Fixture("distilbert-tiny", "distilbert", "DistilBertForMaskedLM", 512, 512, 150,
            "WordPiece tokenizer (lower case); DistilBERT config keys (dim, n_layers, n_heads, hidden_dim), "
            "no token types, learned positions"),
    Fixture("electra-tiny", "electra", "ElectraForMaskedLM", 512, 512, 160,
            "WordPiece tokenizer (lower case); ELECTRA generator with embedding_size 4 < hidden_size 8, "
            "so the embeddings go through embeddings_project"),
    Fixture("albert-tiny", "albert", "AlbertForPreTraining", 512, 512, 170,
            "SentencePiece (unigram) ALBERT tokenizer (lower case); embedding_size 4 < hidden_size 8 through "
            "embedding_hidden_mapping_in, 5 layers sharing 2 groups of 2 layers, gelu_new"),
    Fixture("bart-tiny", "bart", "BartForConditionalGeneration", 514, 512, 180,
            "byte-level BPE BART tokenizer; post-LN encoder and decoder with layernorm_embedding, learned positions "
            "with 2 offset rows, 2 + 3 layers"),
    Fixture("mbart-tiny", "mbart", "MBartForConditionalGeneration", 514, 512, 190,
            "SentencePiece mBART tokenizer with its 25 language codes; pre-LN with layernorm_embedding and a final "
            "layer_norm, scale_embedding"),
    Fixture("barthez-tiny", "barthez", "MBartForConditionalGeneration", 514, 512, 200,
            "BARThez: an mBART model (model_type mbart) with a SentencePiece BarthezTokenizer, named by "
            "tokenizer_class in config.json"),
    Fixture("pegasus-tiny", "pegasus", "PegasusForConditionalGeneration", 512, 512, 210,
            "SentencePiece Pegasus tokenizer (103 offset tokens, <mask_2> as mask); pre-LN, sinusoidal positions, "
            "scale_embedding, bos_token_id 0 in config.json (the tokenizer has no bos)"),
]
# The encoder-decoder families: the smaller sizes, a decoder deeper than the encoder (so that a swapped
# stack shows), relu in Pegasus as in google/pegasus-large.
SEQ2SEQ = dict(d_model=SMALLER["hidden_size"], encoder_layers=2, decoder_layers=3,
               encoder_attention_heads=SMALLER["num_attention_heads"], decoder_attention_heads=SMALLER["num_attention_heads"],
               encoder_ffn_dim=SMALLER["intermediate_size"], decoder_ffn_dim=SMALLER["intermediate_size"],
               dropout=0.1, attention_dropout=0.1, init_std=SMALLER["initializer_range"])

# ALBERT's geometry: the smaller sizes, and layer sharing that is not one group per layer
# (layer i runs group int(i / 2.5): groups 0, 0, 0, 1, 1), each group two layers deep (transformers needs
# inner_group_num <= num_hidden_layers // num_hidden_groups, or its head-mask slice is too short).
ALBERT = dict(SMALLER, num_hidden_layers=5, num_hidden_groups=2, inner_group_num=2, hidden_act="gelu_new",
              embedding_size=4)
# albert-base-v2's sentencepiece layout: <pad> 0, <unk> 1, [CLS] 2, [SEP] 3, [MASK] 4.
ALBERT_SENTENCEPIECE = dict(pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, control_symbols=["[CLS]", "[SEP]", "[MASK]"])


# The special pieces of the real models' sentencepiece files: mBART's is XLM-R's (<unk> 0, <s> 1, </s> 2,
# fairseq ids added by the tokenizer), moussaKam/barthez's is <s> 0, <pad> 1, </s> 2, <unk> 3, and
# google/pegasus-large's is <pad> 0, </s> 1, <unk> 2 with no bos (the tokenizer shifts them by 103).
SEQ2SEQ_SENTENCEPIECE = {
    "mbart": {},
    "barthez": dict(bos_id=0, pad_id=1, eos_id=2, unk_id=3),
    "pegasus": dict(pad_id=0, eos_id=1, unk_id=2, bos_id=-1),
}


def train_sentencepiece(sentences: list[str], vocab_size: int, **special_pieces) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="unigram",
        hard_vocab_limit=False,
        character_coverage=1.0,
        # identity: no precompiled NFKC table, which would add ~240 KB to each tokenizer.
        normalization_rule_name="identity",
        num_threads=1,
        seed_sentencepiece_size=100000,
        shuffle_input_sentence=False,
        minloglevel=2,
        **special_pieces,
    )
    return model.getvalue()


def build_tokenizer(fixture: Fixture, work: Path):
    from transformers import (BertTokenizerFast, CamembertTokenizer, CamembertTokenizerFast,
                              RobertaTokenizerFast, XLMRobertaTokenizer, XLMRobertaTokenizerFast)

    length = fixture.model_max_length
    if fixture.family in ("camembert", "xlm-roberta"):
        sentences = corpus.FRENCH if fixture.family == "camembert" else corpus.FRENCH + corpus.ENGLISH
        spm_path = work / "spm.model"
        spm_path.write_bytes(train_sentencepiece(sentences, vocab_size=400))
        slow_cls, fast_cls = ((CamembertTokenizer, CamembertTokenizerFast) if fixture.family == "camembert"
                              else (XLMRobertaTokenizer, XLMRobertaTokenizerFast))
        slow = slow_cls(vocab_file=str(spm_path), model_max_length=length)
        slow.save_pretrained(str(work / "slow"))
        return fast_cls.from_pretrained(str(work / "slow"), model_max_length=length)
    if fixture.family == "albert":
        from transformers import AlbertTokenizer, AlbertTokenizerFast

        spm_path = work / "spm.model"
        spm_path.write_bytes(train_sentencepiece(corpus.ENGLISH, vocab_size=SMALLER_VOCABULARY, **ALBERT_SENTENCEPIECE))
        AlbertTokenizer(vocab_file=str(spm_path), model_max_length=length).save_pretrained(str(work / "slow"))
        return AlbertTokenizerFast.from_pretrained(str(work / "slow"), model_max_length=length)
    if fixture.family in ("mbart", "barthez", "pegasus"):
        from transformers import (BarthezTokenizer, BarthezTokenizerFast, MBartTokenizer, MBartTokenizerFast,
                                  PegasusTokenizer, PegasusTokenizerFast)

        sentences = corpus.ENGLISH if fixture.family == "pegasus" else corpus.FRENCH + corpus.ENGLISH
        spm_path = work / "spm.model"
        spm_path.write_bytes(train_sentencepiece(sentences, vocab_size=SMALLER_VOCABULARY,
                                                 **SEQ2SEQ_SENTENCEPIECE[fixture.family]))
        slow_cls, fast_cls = {"mbart": (MBartTokenizer, MBartTokenizerFast),
                              "barthez": (BarthezTokenizer, BarthezTokenizerFast),
                              "pegasus": (PegasusTokenizer, PegasusTokenizerFast)}[fixture.family]
        slow_cls(vocab_file=str(spm_path), model_max_length=length).save_pretrained(str(work / "slow"))
        return fast_cls.from_pretrained(str(work / "slow"), model_max_length=length)
    if fixture.family in ("roberta", "bart"):
        from tokenizers import ByteLevelBPETokenizer

        bpe = ByteLevelBPETokenizer()
        bpe.train_from_iterator(corpus.ENGLISH, vocab_size=360, min_frequency=2,
                                special_tokens=["<s>", "<pad>", "</s>", "<unk>"], show_progress=False)
        bpe.save_model(str(work))
        # <mask> is not in the trained vocabulary, so it is appended last, as in roberta-base.
        if fixture.family == "bart":
            from transformers import BartTokenizerFast

            return BartTokenizerFast(vocab_file=str(work / "vocab.json"), merges_file=str(work / "merges.txt"),
                                     model_max_length=length)
        return RobertaTokenizerFast(vocab_file=str(work / "vocab.json"), merges_file=str(work / "merges.txt"),
                                    model_max_length=length)
    if fixture.family in ("bert", "distilbert", "electra"):
        from transformers import DistilBertTokenizerFast, ElectraTokenizerFast

        tokenizer_cls = {"bert": BertTokenizerFast, "distilbert": DistilBertTokenizerFast,
                         "electra": ElectraTokenizerFast}[fixture.family]
        size = 300 if fixture.family == "bert" else SMALLER_VOCABULARY
        (work / "vocab.txt").write_text("\n".join(wordpiece_vocabulary(corpus.ENGLISH, size)) + "\n", encoding="utf-8")
        return tokenizer_cls(vocab_file=str(work / "vocab.txt"), do_lower_case=True, model_max_length=length)
    raise ValueError(fixture.family)


def wordpiece_vocabulary(sentences: list[str], size: int) -> list[str]:
    """A WordPiece vocabulary built by counting, not by the tokenizers trainer (whose tie-breaking
    changes between runs): specials, every character alone and as a continuation, then the most
    frequent lower-case words (ties broken alphabetically)."""
    import collections
    import re

    words = collections.Counter(w for s in sentences for w in re.findall(r"\w+|[^\w\s]", s.lower()))
    characters = sorted({c for w in words for c in w})
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + characters + ["##" + c for c in characters]
    for word, _ in sorted(words.items(), key=lambda item: (-item[1], item[0])):
        if len(vocabulary) >= size:
            break
        if word not in vocabulary:
            vocabulary.append(word)
    return vocabulary


def build_model(fixture: Fixture, tokenizer):
    from transformers import (BertConfig, BertForPreTraining, CamembertConfig, CamembertForMaskedLM,
                              RobertaConfig, RobertaForMaskedLM, XLMRobertaConfig, XLMRobertaForMaskedLM)

    common.seed_all(fixture.seed_offset)
    vocab = len(tokenizer)
    if fixture.family == "distilbert":
        from transformers import DistilBertConfig, DistilBertForMaskedLM

        config = DistilBertConfig(vocab_size=vocab, max_position_embeddings=fixture.max_positions,
                                  sinusoidal_pos_embds=False, n_layers=SMALLER["num_hidden_layers"],
                                  n_heads=SMALLER["num_attention_heads"], dim=SMALLER["hidden_size"],
                                  hidden_dim=SMALLER["intermediate_size"], activation=SMALLER["hidden_act"],
                                  dropout=0.1, attention_dropout=0.1, initializer_range=SMALLER["initializer_range"],
                                  pad_token_id=tokenizer.pad_token_id)
        model = DistilBertForMaskedLM(config)
    elif fixture.family == "electra":
        from transformers import ElectraConfig, ElectraForMaskedLM

        config = ElectraConfig(vocab_size=vocab, embedding_size=4, max_position_embeddings=fixture.max_positions,
                               type_vocab_size=2, pad_token_id=tokenizer.pad_token_id, layer_norm_eps=1e-12, **SMALLER)
        model = ElectraForMaskedLM(config)
    elif fixture.family == "albert":
        from transformers import AlbertConfig, AlbertForPreTraining

        config = AlbertConfig(vocab_size=vocab, max_position_embeddings=fixture.max_positions, type_vocab_size=2,
                              pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id,
                              eos_token_id=tokenizer.sep_token_id, layer_norm_eps=1e-12, **ALBERT)
        model = AlbertForPreTraining(config)
    elif fixture.family in ("bart", "mbart", "barthez", "pegasus"):
        from transformers import (BartConfig, BartForConditionalGeneration, MBartConfig, MBartForConditionalGeneration,
                                  PegasusConfig, PegasusForConditionalGeneration)

        ids = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        if fixture.family == "pegasus":
            config = PegasusConfig(vocab_size=vocab, max_position_embeddings=fixture.max_positions,
                                   activation_function="relu", scale_embedding=True, bos_token_id=0,
                                   decoder_start_token_id=tokenizer.pad_token_id, **ids, **SEQ2SEQ)
            model = PegasusForConditionalGeneration(config)
        elif fixture.family == "bart":
            config = BartConfig(vocab_size=vocab, max_position_embeddings=fixture.max_positions - 2,
                                bos_token_id=tokenizer.bos_token_id, decoder_start_token_id=tokenizer.eos_token_id,
                                **ids, **SEQ2SEQ)
            model = BartForConditionalGeneration(config)
        else:
            config = MBartConfig(vocab_size=vocab, max_position_embeddings=fixture.max_positions - 2,
                                 scale_embedding=True, bos_token_id=tokenizer.bos_token_id, **ids, **SEQ2SEQ)
            if fixture.family == "barthez":
                config.tokenizer_class = "BarthezTokenizer"
            model = MBartForConditionalGeneration(config)
    elif fixture.family == "bert":
        config = BertConfig(vocab_size=vocab, max_position_embeddings=fixture.max_positions, type_vocab_size=2,
                            pad_token_id=tokenizer.pad_token_id, layer_norm_eps=1e-12, **TINY)
        model = BertForPreTraining(config)
    else:
        config_cls, model_cls = {
            "camembert": (CamembertConfig, CamembertForMaskedLM),
            "roberta": (RobertaConfig, RobertaForMaskedLM),
            "xlm-roberta": (XLMRobertaConfig, XLMRobertaForMaskedLM),
        }[fixture.family]
        # bos/eos stay at the config class defaults (0 and 2): for CamemBERT they disagree with the
        # tokenizer (<s> is 5), which is exactly the case where the tokenizer must win.
        config = config_cls(vocab_size=vocab, max_position_embeddings=fixture.max_positions, type_vocab_size=1,
                            pad_token_id=tokenizer.pad_token_id, layer_norm_eps=1e-5, **TINY)
        model = model_cls(config)
    make_nontrivial(model)
    model.eval()
    return model


@torch.no_grad()
def make_nontrivial(model) -> None:
    """Random biases and LayerNorm parameters (never 0 or 1) so a forgotten term changes outputs."""
    # DistilBERT and ALBERT name norms *layer_norm; RoBERTa's lm_head.layer_norm keeps its init (older goldens).
    norms = (("LayerNorm.weight", "layer_norm.weight") if model.config.model_type in ("distilbert", "albert")
             else ("layer_norm.weight", "layernorm_embedding.weight") if model.config.is_encoder_decoder
             else ("LayerNorm.weight",))
    for name, parameter in model.named_parameters():
        if any(norm in name for norm in norms):
            parameter.copy_(1.0 + 0.2 * torch.randn_like(parameter))
        elif name.endswith("bias"):
            parameter.copy_(0.1 * torch.randn_like(parameter))
    if getattr(model, "final_logits_bias", None) is not None:
        model.final_logits_bias.copy_(0.1 * torch.randn_like(model.final_logits_bias))


def generate(log) -> list[dict]:
    records = []
    for fixture in FIXTURES:
        out = FIXTURES_DIR / fixture.name
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            # Saved inside the block: the fast tokenizer re-reads its SentencePiece file when saving.
            tokenizer = build_tokenizer(fixture, Path(tmp))
            model = build_model(fixture, tokenizer)
            model.save_pretrained(str(out), safe_serialization=True)
            tokenizer.save_pretrained(str(out))
        size = sum(p.stat().st_size for p in out.iterdir())
        log(f"fixture {fixture.name}: vocab {len(tokenizer)}, {size} bytes")
        records.append({
            "name": fixture.name,
            "family": fixture.family,
            "architecture": fixture.architecture,
            "path": str(out),
            "seed": common.BASE_SEED + fixture.seed_offset,
            "note": fixture.note,
            "special_ids": special_ids(tokenizer),
        })
    return records


def special_ids(tokenizer) -> dict:
    return {
        "bos": tokenizer.bos_token_id, "cls": tokenizer.cls_token_id, "eos": tokenizer.eos_token_id,
        "sep": tokenizer.sep_token_id, "pad": tokenizer.pad_token_id, "unk": tokenizer.unk_token_id,
        "mask": tokenizer.mask_token_id, "vocab": len(tokenizer),
    }
