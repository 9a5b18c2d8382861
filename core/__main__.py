from shoploop.cli import main

main()
