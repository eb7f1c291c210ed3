"""The subscription domain (定期購入, design §6.6, R19-R22): pure, standard library only. Time is passed in."""
