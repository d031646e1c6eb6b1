// User store based step-up: accounts from the listed user stores (here the corporate directory) pass a
// second factor; accounts of any other store sign in with the first step alone.
var storesNeedingSecondFactor = ['CORP'];

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            if (storesNeedingSecondFactor.indexOf(user.userStoreDomain) >= 0) {
                Log.info(user.username + ' comes from the ' + user.userStoreDomain + ' user store: second factor');
                executeStep(2);
            }
        }
    });
};
