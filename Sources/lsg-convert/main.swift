import LSGConvertCLI

LSGConvertCommand.main()
