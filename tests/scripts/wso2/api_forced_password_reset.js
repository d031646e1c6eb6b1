// Forced password reset.
// An account flagged by the administrators must choose a new password right after signing in.
// The new password is stored with updateUserPassword: on success the flag is cleared and the login
// goes on; when the password is refused (too short, too common...) the user is asked again.
var resetClaim = 'http://example.com/claims/passwordResetRequired';

var askForNewPassword = function (context, user) {
    prompt('genericForm', {
        username: user.username,
        inputs: [{id: 'newPassword', label: 'New password', type: 'password'}]
    }, {
        onSuccess: function (context) {
            var chosen = context.request.params.newPassword[0];
            updateUserPassword(user, chosen, {
                onSuccess: function (context) {
                    user.localClaims[resetClaim] = 'false';
                    Log.info('Password renewed for ' + user.username);
                },
                onFail: function (context) {
                    Log.info('The new password was refused for ' + user.username);
                    askForNewPassword(context, user);
                }
            });
        }
    });
};

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.steps[1].subject;
            if (user.localClaims[resetClaim] === 'true') {
                askForNewPassword(context, user);
            }
        }
    });
};
