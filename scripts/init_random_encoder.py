"""Rule init_random_encoder (paper scale): the pretrained model's architecture and tokenizer, random weights."""
import json
from pathlib import Path

from xstilts import env
from xstilts.snake import start

log = start(snakemake)
import torch  # noqa: E402
from transformers import AutoConfig, AutoModelForMaskedLM  # noqa: E402

from xstilts.models.modeling import load_tokenizer  # noqa: E402

src, out = snakemake.input[0], Path(snakemake.output[0])
torch.manual_seed(snakemake.params.seed)
model = AutoModelForMaskedLM.from_config(AutoConfig.from_pretrained(src))
model.save_pretrained(str(out), safe_serialization=True)
load_tokenizer(src).save_pretrained(str(out))
(out / "xstilts_run.json").write_text(json.dumps({"init": "random", "from_config_of": src,
                                                  "seed": snakemake.params.seed}), encoding="utf-8")
log.info(f"random-init copy of {src} written to {out}")
