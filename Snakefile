# rmtweights: random-matrix-theory studies of trained neural-network weight matrices.
# Thin entry point: config, validation (common.smk), one rule file per stage, rule all.
from snakemake.utils import min_version

min_version("9.1")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/spectra.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/prune.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/sweeps.smk"
include: "workflow/rules/dynamics.smk"


rule all:
    input:
        get_final_output(),
    default_target: True
