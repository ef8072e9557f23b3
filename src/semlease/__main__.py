from semlease.interfaces.cli import main

main()
