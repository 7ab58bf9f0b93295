"""Fine-tunes the pretrained encoder for attribution roles and writes its low-rank adapter.

Usage: python -m workers.training.tune_encoder GOLD.jsonl (--refit | --select) [--epochs N]
[--fraction F] [--cache DIR] [--out FILE]

The encoder (:mod:`workers.pipeline.encoder_graph`) was trained for sentence similarity; the
role tagger reads its vectors frozen. Here its matrices learn the roles themselves: low-rank
adapters (LoRA, rank ``RANK``) on every matrix of its six layers, under a word-piece BIO head
that reads what the tagger reads (the mean of the last ``FEATURE_LAYERS`` layers), trained on
the same windows of whole sentences the encoder sees at inference. Only the adapters are
shipped (``ADAPTER_FILE``, a few MB); ``build_int8`` adds them into the official weights before
quantizing, so the deployed encoder has the same graph and the same cost as before. The head is
thrown away: the role tagger is retrained on the tuned vectors
(:mod:`workers.training.train_roles`).

PyTorch, ``transformers`` and ``peft`` are needed here only (``pip install -e '.[train]'``); the
service never imports them. ``--select`` fits on the training part and prints the head's
validation span F1 after every epoch; ``--refit`` fits on training and validation for exactly
``EPOCHS`` epochs. The test part is never read. Fixed seed, fixed thread count. ``--fraction``
fits on the first part of the documents (in file order), as the tagger's does, for learning curves.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from spacy.tokens import Doc
from tokenizers import Tokenizer

from workers.pipeline.encoder import CLS, SEP, _windows, piece_owners, word_piece_tokenizer
from workers.pipeline.encoder_graph import ADAPTER_FILE, FEATURE_LAYERS, weights_dir
from workers.pipeline.roles import LABELS
from workers.training.role_examples import biluo, role_spans
from workers.training.split import add_mode_arguments, fitting_parts, split
from workers.training.train_roles import parsed_docs

SEED = 0
EPOCHS = 3
RANK = 16
ALPHA = 32
LEARNING_RATE = 5e-4
BATCH_WINDOWS = 16
THREADS = 2
# BIO over word pieces: O, then B- and I- of each role.
PIECE_LABELS = ("O", *(f"{prefix}-{label}" for label in LABELS for prefix in ("B", "I")))
TARGETS = ["query", "key", "value", "dense"]  # every matrix of a layer: attention, its output, the feed-forward pair

Window = tuple[np.ndarray, np.ndarray]  # word-piece ids with their markers, label per id (-100: not scored)


def piece_labels(doc: Doc, gold: dict[str, Any], owner: np.ndarray, owned: np.ndarray) -> np.ndarray:
    """The BIO label index of every word piece: its token's role, B only on a span's first piece."""
    tags = biluo(len(doc), role_spans(doc, gold))
    labels = np.zeros(len(owner), dtype=np.int64)
    previous = -1
    for i, (token, has_owner) in enumerate(zip(owner.tolist(), owned.tolist())):
        if not has_owner or tags[token] == "O":
            previous = token if has_owner else previous
            continue
        prefix, role = tags[token].split("-", 1)
        begins = prefix in ("B", "U") and token != previous
        labels[i] = PIECE_LABELS.index(f"{'B' if begins else 'I'}-{role}")
        previous = token
    return labels


@lru_cache(maxsize=1)
def _tokenizer() -> Tokenizer:
    """The encoder's tokenizer, loaded once (the weights' hashes are checked on loading)."""
    return word_piece_tokenizer(weights_dir())


def windows(doc: Doc, gold: dict[str, Any]) -> list[Window]:
    """The encoder's inference windows over ``doc``, each with its pieces' labels."""
    encoding = _tokenizer().encode(doc.text, add_special_tokens=False)
    if not encoding.ids:
        return []
    ids = np.asarray(encoding.ids, dtype=np.int64)
    starts = np.asarray([start for start, _ in encoding.offsets], dtype=np.int64)
    owner, owned = piece_owners(doc, starts)
    labels = piece_labels(doc, gold, np.maximum(owner, 0), owned)
    return [(np.concatenate(([CLS], ids[s:e], [SEP])), np.concatenate(([-100], labels[s:e], [-100])))
            for s, e in _windows(doc, starts)]


def batches(items: list[Window], rng: random.Random) -> list[list[Window]]:
    """Batches of similar length (little padding), in a shuffled order."""
    ordered = sorted(items, key=lambda w: (len(w[0]), rng.random()))
    chunks = [ordered[i:i + BATCH_WINDOWS] for i in range(0, len(ordered), BATCH_WINDOWS)]
    rng.shuffle(chunks)
    return chunks


def tensors(batch: list[Window]) -> tuple[Any, Any, Any]:
    """Ids, attention mask and labels of a batch, padded to its longest window (padding unscored)."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, (piece_ids, piece_labels_) in enumerate(batch):
        ids[row, :len(piece_ids)] = torch.from_numpy(piece_ids)
        mask[row, :len(piece_ids)] = 1
        labels[row, :len(piece_ids)] = torch.from_numpy(piece_labels_)
    return ids, mask, labels


class RoleTuner:
    """The encoder with LoRA adapters and a word-piece BIO head, trained an epoch at a time."""

    def __init__(self, train: list[Window], steps_per_epoch: int, epochs: int) -> None:
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import BertModel, get_linear_schedule_with_warmup

        torch.manual_seed(SEED)
        torch.set_num_threads(THREADS)
        self.rng = random.Random(SEED)
        self.train = train
        base = BertModel.from_pretrained(str(weights_dir()), add_pooling_layer=False)
        config = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.1, target_modules=TARGETS)
        self.encoder = get_peft_model(base, config)
        self.head = torch.nn.Linear(base.config.hidden_size, len(PIECE_LABELS))
        params = [p for p in self.encoder.parameters() if p.requires_grad] + list(self.head.parameters())
        self.optimizer = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.01)
        total = steps_per_epoch * epochs
        self.schedule = get_linear_schedule_with_warmup(self.optimizer, max(1, total // 10), total)
        self.epochs = 0

    def logits(self, ids: Any, mask: Any) -> Any:
        import torch

        states = self.encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        return self.head(torch.stack(states[-FEATURE_LAYERS:]).mean(0))

    def epoch(self) -> dict:
        import torch

        started = time.perf_counter()
        self.encoder.train()
        self.head.train()
        total = 0.0
        for batch in batches(self.train, self.rng):
            ids, mask, labels = tensors(batch)
            loss = torch.nn.functional.cross_entropy(self.logits(ids, mask).flatten(0, 1), labels.flatten())
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.schedule.step()
            total += loss.item()
        self.epochs += 1
        return {"epoch": self.epochs, "loss": round(total, 2), "seconds": round(time.perf_counter() - started)}

    def span_f1(self, items: list[Window]) -> dict[str, float]:
        """Exact-span F1 per role of the head's BIO labels on ``items`` (word-piece spans)."""
        import torch

        self.encoder.eval()
        self.head.eval()
        counts = {label: [0, 0, 0] for label in LABELS}  # true positives, predicted, gold
        with torch.no_grad():
            for batch in batches(items, random.Random(SEED)):
                ids, mask, labels = tensors(batch)
                predicted = self.logits(ids, mask).argmax(-1)
                for row in range(len(batch)):
                    keep = labels[row] != -100
                    pred = _spans(predicted[row][keep].tolist())
                    gold = _spans(labels[row][keep].tolist())
                    for label in LABELS:
                        p = {s for s in pred if s[2] == label}
                        g = {s for s in gold if s[2] == label}
                        counts[label][0] += len(p & g)
                        counts[label][1] += len(p)
                        counts[label][2] += len(g)
        scores = {label: 2 * tp / max(1, n_pred + n_gold) for label, (tp, n_pred, n_gold) in counts.items()}
        scores["mean"] = sum(scores.values()) / len(LABELS)
        return scores

    def save(self, out: Path) -> None:
        """Write each adapted matrix's low-rank update as two factors, the scale folded in."""
        from safetensors.numpy import save_file

        factors: dict[str, np.ndarray] = {}
        for name, module in self.encoder.base_model.model.named_modules():
            if hasattr(module, "lora_A") and "default" in module.lora_A:
                down = module.lora_A["default"].weight.detach().numpy()
                up = module.lora_B["default"].weight.detach().numpy() * module.scaling["default"]
                factors[f"{name}.weight.down"] = np.ascontiguousarray(down, dtype=np.float32)
                factors[f"{name}.weight.up"] = np.ascontiguousarray(up, dtype=np.float32)
        out.parent.mkdir(parents=True, exist_ok=True)
        save_file(factors, str(out), metadata={"rank": str(RANK), "epochs": str(self.epochs)})


def _spans(labels: list[int]) -> set[tuple[int, int, str]]:
    """Spans of a BIO label sequence (an I without its B starts a span, as a tagger's would)."""
    spans, start, role = set(), None, None
    for i, index in enumerate([*labels, 0]):
        tag = PIECE_LABELS[index]
        inside = tag.startswith("I-") and tag[2:] == role
        if start is not None and not inside:
            spans.add((start, i, role))
            start, role = None, None
        if tag != "O" and not inside:
            start, role = i, tag[2:]
    return spans


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path)
    add_mode_arguments(parser)
    parser.add_argument("--out", type=Path, default=ADAPTER_FILE)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the documents to fit on")
    parser.add_argument("--cache", type=Path, help="directory for the parsed documents, reused when present")
    args = parser.parse_args(argv)
    parts = split(args.gold)

    def part_windows(name: str) -> list[list[Window]]:
        docs = parsed_docs(parts[name], args.cache and args.cache / f"{name}.spacy")
        return [windows(doc, gold) for doc, gold in zip(docs, parts[name], strict=True)]

    fitted = [doc for name in fitting_parts(args.refit) for doc in part_windows(name)]
    train = [w for doc in fitted[:max(1, round(len(fitted) * args.fraction))] for w in doc]
    valid = [] if args.refit else [w for doc in part_windows("validation") for w in doc]
    tuner = RoleTuner(train, -(-len(train) // BATCH_WINDOWS), args.epochs)
    for _ in range(args.epochs):
        row = tuner.epoch()
        if valid:
            row.update({k: round(v, 4) for k, v in tuner.span_f1(valid).items()})
        print(json.dumps(row), flush=True)
    tuner.save(args.out)
    print(json.dumps({"windows": len(train), "parts": fitting_parts(args.refit), "epochs": args.epochs,
                      "out": str(args.out)}))


if __name__ == "__main__":
    main()
