from metaframe.cli import main

main()
