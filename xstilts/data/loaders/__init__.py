"""Converters from real upstream files and Hugging Face hub rows into xstilts records (docs/records.md), one
module per record format (`classification`, `tagging`, `qa`, `retrieval`, `multiple_choice`), sharing the
row checks and file readers of `common` and the folder writer of `write`; this package exports them all
(`from xstilts.data import loaders as L; L.xnli_from_hub_rows(...)`).

Every function here is pure: it takes file paths or an iterable of rows (dicts as `datasets` yields them, or as
`pandas.read_parquet(...).to_dict("records")` gives them: numpy integers and arrays are accepted) and returns a
list of records. Every record goes through `records.validate` with a `where` that names its origin:

* files: ``<path>:<line>`` (1-based physical line where the row starts; for SQuAD-style JSON the JSON path and
  the question id);
* hub rows: ``<source>:row <i>`` (0-based index, as `datasets` indexes a split).

Bad input (missing field, label out of range, tokens/tags of different length, invalid UTF-8, truncated JSON,
wrong column count, duplicate id, ...) raises `records.RecordError` naming that origin. No network and no
`datasets` import is needed: the paper-scale data stage reads hub rows or raw files and feeds them through here,
then calls `write_task`, which writes the same layout as the embedded micro benchmark.

Text fields are NFC-normalised (a no-op on NFC input, which all fixtures are); nothing else is changed except
where a docstring says so (Tatoeba newlines, PAN-X language prefixes). Functions whose sources can hold rows
without a gold label (SNLI/MNLI `-` or `-1`) drop those rows and return ``(records, n_dropped)``; everywhere else
a missing gold label is an error, since an unlabelled row cannot become a record.
"""
from __future__ import annotations

from xstilts.data.loaders.classification import (NLI_ALIASES, anli_from_csv, classification_from_hub_rows,
                                                 mnli_from_glue_tsv, mnli_from_jiant_jsonl, nli_from_hub_rows,
                                                 nli_from_jsonl, pawsx_from_hub_rows, pawsx_from_tsv, qqp_from_tsv,
                                                 sst2_from_tsv, xnli_from_hub_rows, xnli_from_xglue_tsv,
                                                 xnli_from_xtreme_rows)  # noqa: F401
from xstilts.data.loaders.common import (BAD_ROW_POLICIES, Located, SPLITS, _Out, _lines, _row, bad_rows, csv_rows,
                                         jsonl_rows)  # noqa: F401
from xstilts.data.loaders.multiple_choice import (COSMOSQA_COLUMNS, commonsenseqa_from_rows, cosmosqa_from_rows,
                                                  hellaswag_from_rows)  # noqa: F401
from xstilts.data.loaders.qa import (TYDIQA_LANGS, check_english_only, fix_answer, qa_from_rows, squad_from_json,
                                     squad_v2_from_json, tydiqa_language, tydiqa_split, tydiqa_split_indexed)  # noqa: F401
from xstilts.data.loaders.retrieval import (BUCC_SPLITS, TATOEBA_ISO3, bucc_from_hub_rows, bucc_from_raw,
                                            tatoeba_from_files, tatoeba_from_hub_rows)  # noqa: F401
from xstilts.data.loaders.tagging import (UDPOS_LANGUAGES, panx_from_hub_rows, panx_from_truth_csv,
                                          strip_lang_prefix, udpos_from_conllu, udpos_from_hub_rows)  # noqa: F401
from xstilts.data.loaders.write import (swap_in_folder, write_task)  # noqa: F401
