"""One trainer for every stage: validated YAML configs, pre-rendered SCM pairs, checkpoints, DDP."""
