"""metaframe's built-in outer algorithms: reptile, fomaml, maml and pretrain."""
